import type { Serializer } from '../serialization/serializer.js';
import type { CachedEntry, CachedResponse, StoredHeader, VariantsRecord } from './cached-response.js';

// Payload v1 (inside the engine's envelope), all integers big-endian:
//   response: kind=1 status(u16) route(u16 len, utf8) etag(u16 len, latin1; 0 = none)
//             headerCount(u16) { name(u8 len, latin1) valueCount(u8) { value(u32 len, latin1) } } body(rest)
//   variants: kind=2 route(u16 len, utf8) nameCount(u8) { name(u8 len, latin1) }
// The body is raw bytes (no JSON, no base64). Header text is latin1 because that is how Node reads
// and writes header bytes. A layout change needs a new serializer name, so old entries read as misses.
const KIND_RESPONSE = 1;
const KIND_VARIANTS = 2;

/** The compact binary serializer of stored responses; decoding keeps the body as a view, not a copy. */
export const responseSerializer: Serializer = {
  name: 'http-response/1',
  serialize: (value) => encodeEntryValue(value as CachedEntry, 0),
  serializeWithHeadroom: (value, headroom) => encodeEntryValue(value as CachedEntry, headroom),
  deserialize(bytes) {
    const reader = new Reader(bytes);
    const kind = reader.u8();
    if (kind === KIND_RESPONSE) return decodeResponse(reader);
    if (kind === KIND_VARIANTS) return decodeVariants(reader);
    throw new TypeError(`unknown stored response kind ${kind}`);
  },
};

function encodeEntryValue(entry: CachedEntry, headroom: number): Buffer {
  return entry.kind === 'variants' ? encodeVariants(entry, headroom) : encodeResponse(entry, headroom);
}

/** `response` in the layout above, behind `headroom` bytes left for the entry's envelope. */
function encodeResponse(response: CachedResponse, headroom: number): Buffer {
  const routeLength = Buffer.byteLength(response.route, 'utf8');
  const etag = response.etag ?? '';
  let size = 1 + 2 + 2 + routeLength + 2 + Buffer.byteLength(etag, 'latin1') + 2 + response.body.length;
  for (const [name, value] of response.headers) {
    size += 2 + Buffer.byteLength(name, 'latin1');
    for (const item of valuesOf(value)) size += 4 + Buffer.byteLength(item, 'latin1');
  }
  const writer = new Writer(size, headroom);
  writer.u8(KIND_RESPONSE);
  writer.u16(response.status, 'status');
  writer.utf8Text16(response.route, routeLength, 'route');
  writer.text16(etag, 'etag');
  writer.u16(response.headers.length, 'header count');
  for (const [name, value] of response.headers) {
    const values = valuesOf(value);
    writer.text8(name, 'header name');
    writer.u8(values.length, 'header value count');
    for (const item of values) writer.text32(item);
  }
  writer.raw(response.body);
  return writer.done();
}

function decodeResponse(reader: Reader): CachedResponse {
  const status = reader.u16();
  const route = reader.utf8(reader.u16());
  const etag = reader.latin1(reader.u16());
  const headerCount = reader.u16();
  const headers: StoredHeader[] = new Array(headerCount);
  for (let index = 0; index < headerCount; index++) {
    const name = reader.latin1(reader.u8());
    const valueCount = reader.u8();
    if (valueCount === 1) {
      headers[index] = [name, reader.latin1(reader.u32())];
    } else {
      const values: string[] = new Array(valueCount);
      for (let item = 0; item < valueCount; item++) values[item] = reader.latin1(reader.u32());
      headers[index] = [name, values];
    }
  }
  return {
    kind: 'response',
    status,
    headers,
    body: reader.rest(),
    etag: etag === '' ? undefined : etag,
    route,
  };
}

function encodeVariants(record: VariantsRecord, headroom: number): Buffer {
  const routeLength = Buffer.byteLength(record.route, 'utf8');
  let size = 1 + 2 + routeLength + 1;
  for (const name of record.names) size += 1 + Buffer.byteLength(name, 'latin1');
  const writer = new Writer(size, headroom);
  writer.u8(KIND_VARIANTS);
  writer.utf8Text16(record.route, routeLength, 'route');
  writer.u8(record.names.length, 'vary name count');
  for (const name of record.names) writer.text8(name, 'vary name');
  return writer.done();
}

function decodeVariants(reader: Reader): VariantsRecord {
  const route = reader.utf8(reader.u16());
  const count = reader.u8();
  const names: string[] = new Array(count);
  for (let index = 0; index < count; index++) names[index] = reader.latin1(reader.u8());
  reader.end();
  return { kind: 'variants', names, route };
}

function valuesOf(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

class Writer {
  readonly #out: Buffer;
  #offset = 0;

  /** `size` bytes to write, behind `headroom` bytes left unwritten for the caller. */
  constructor(size: number, headroom: number) {
    this.#out = Buffer.allocUnsafe(headroom + size);
    this.#offset = headroom;
  }

  u8(value: number, what = 'byte'): void {
    if (value > 0xff) throw new RangeError(`${what} ${value} does not fit the stored response format`);
    this.#offset = this.#out.writeUInt8(value, this.#offset);
  }

  u16(value: number, what: string): void {
    if (value > 0xffff) throw new RangeError(`${what} ${value} does not fit the stored response format`);
    this.#offset = this.#out.writeUInt16BE(value, this.#offset);
  }

  /** UTF-8 `text` of `length` bytes, behind its length. */
  utf8Text16(text: string, length: number, what: string): void {
    this.u16(length, `${what} length`);
    this.#offset += this.#out.write(text, this.#offset, length, 'utf8');
  }

  text8(text: string, what: string): void {
    const length = Buffer.byteLength(text, 'latin1');
    this.u8(length, `${what} length`);
    this.#offset += this.#out.write(text, this.#offset, length, 'latin1');
  }

  text16(text: string, what: string): void {
    const length = Buffer.byteLength(text, 'latin1');
    this.u16(length, `${what} length`);
    this.#offset += this.#out.write(text, this.#offset, length, 'latin1');
  }

  text32(text: string): void {
    const length = Buffer.byteLength(text, 'latin1');
    this.#offset = this.#out.writeUInt32BE(length, this.#offset);
    this.#offset += this.#out.write(text, this.#offset, length, 'latin1');
  }

  raw(bytes: Buffer): void {
    this.#offset += bytes.copy(this.#out, this.#offset);
  }

  done(): Buffer {
    return this.#out;
  }
}

class Reader {
  readonly #bytes: Buffer;
  #offset = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  u8(): number {
    this.#need(1);
    return this.#bytes.readUInt8(this.#offset++);
  }

  u16(): number {
    this.#need(2);
    const value = this.#bytes.readUInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  u32(): number {
    this.#need(4);
    const value = this.#bytes.readUInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  latin1(length: number): string {
    this.#need(length);
    this.#offset += length;
    return this.#bytes.toString('latin1', this.#offset - length, this.#offset);
  }

  utf8(length: number): string {
    this.#need(length);
    this.#offset += length;
    return this.#bytes.toString('utf8', this.#offset - length, this.#offset);
  }

  rest(): Buffer {
    return this.#bytes.subarray(this.#offset);
  }

  end(): void {
    if (this.#offset !== this.#bytes.length) throw new TypeError('stored response has trailing bytes');
  }

  #need(length: number): void {
    if (this.#offset + length > this.#bytes.length) throw new TypeError('stored response is truncated');
  }
}
