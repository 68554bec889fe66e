import { CacheError } from '../errors.js';

/** What every stored entry carries besides its payload. Times are epoch milliseconds. */
export interface EntryEnvelope {
  /** Name of the serializer that produced `payload`. */
  serializerName: string;
  createdAtMs: number;
  /** Until then the entry is fresh; after it, stale (servable only by the fail-safe rules). */
  freshUntilMs: number;
  /** After it the entry must not be served at all; Redis expires it then too. */
  staleUntilMs: number;
  payload: Buffer;
}

// Layout v1: magic(2) version(1) nameLength(1) name createdAt(f64) freshUntil(f64) staleUntil(f64) payload.
// Changing it means a new version: old entries then read as misses instead of being misread.
const MAGIC_0 = 0xca;
const MAGIC_1 = 0xc4;
/** Version of the stored entry layout written by this release. */
export const ENTRY_FORMAT_VERSION = 1;
const TIMES_BYTES = 24;

/** Encodes an entry into the v1 binary layout. */
export function encodeEntry(entry: EntryEnvelope): Buffer {
  const headerLength = envelopeLength(entry.serializerName);
  const out = Buffer.allocUnsafe(headerLength + entry.payload.length);
  entry.payload.copy(out, headerLength);
  return writeEnvelope(out, entry);
}

/** How many bytes the envelope takes in front of the payload of an entry written by `serializerName`. */
export function envelopeLength(serializerName: string): number {
  const nameLength = Buffer.byteLength(serializerName, 'utf8');
  if (nameLength === 0 || nameLength > 255) {
    throw new TypeError(`serializer name must be 1 to 255 bytes, got ${nameLength}`);
  }
  return 4 + nameLength + TIMES_BYTES;
}

/**
 * Writes the envelope of `entry` into the first {@link envelopeLength} bytes of `out`, whose rest
 * already holds the payload, and returns `out`: the entry in one buffer, without copying its payload.
 */
export function writeEnvelope(out: Buffer, entry: Omit<EntryEnvelope, 'payload'>): Buffer {
  const headerLength = envelopeLength(entry.serializerName);
  if (out.length < headerLength) {
    throw new TypeError(`an entry needs ${headerLength} bytes for its envelope, got ${out.length}`);
  }
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = ENTRY_FORMAT_VERSION;
  out[3] = headerLength - 4 - TIMES_BYTES;
  let offset = 4 + out.write(entry.serializerName, 4, 'utf8');
  offset = out.writeDoubleBE(entry.createdAtMs, offset);
  offset = out.writeDoubleBE(entry.freshUntilMs, offset);
  out.writeDoubleBE(entry.staleUntilMs, offset);
  return out;
}

/** Decodes a v1 entry; throws a `CacheError` with code `E_DECODE_FAILED` for anything else. */
export function decodeEntry(bytes: Buffer): EntryEnvelope {
  if (bytes.length < 4 || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) {
    throw new CacheError('E_DECODE_FAILED', 'stored entry is not a cache entry (bad magic bytes)');
  }
  if (bytes[2] !== ENTRY_FORMAT_VERSION) {
    throw new CacheError('E_DECODE_FAILED', `stored entry has unsupported format version ${bytes[2]}`);
  }
  const nameLength = bytes[3] ?? 0;
  const timesAt = 4 + nameLength;
  if (bytes.length < timesAt + TIMES_BYTES) {
    throw new CacheError('E_DECODE_FAILED', 'stored entry is truncated');
  }
  return {
    serializerName: bytes.toString('utf8', 4, timesAt),
    createdAtMs: bytes.readDoubleBE(timesAt),
    freshUntilMs: bytes.readDoubleBE(timesAt + 8),
    staleUntilMs: bytes.readDoubleBE(timesAt + 16),
    payload: bytes.subarray(timesAt + TIMES_BYTES),
  };
}

/** Where the times of an entry written by `serializerName` start: they can be rewritten in place. */
export function timesOffset(serializerName: string): number {
  return 4 + Buffer.byteLength(serializerName, 'utf8');
}

/** The 24 bytes of an entry's times, as the envelope holds them. */
export function encodeTimes(createdAtMs: number, freshUntilMs: number, staleUntilMs: number): Buffer {
  const times = Buffer.allocUnsafe(TIMES_BYTES);
  times.writeDoubleBE(createdAtMs, 0);
  times.writeDoubleBE(freshUntilMs, 8);
  times.writeDoubleBE(staleUntilMs, 16);
  return times;
}
