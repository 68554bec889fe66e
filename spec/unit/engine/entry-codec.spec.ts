import { expect } from 'chai';
import { decodeValue, encodeValue, type StoredValue } from '../../../src/engine/entry-codec.js';
import { responseSerializer } from '../../../src/http/response-serializer.js';
import { encodeEntry } from '../../../src/serialization/entry-envelope.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack-serializer.js';
import { cacheErrorOf } from '../../support/cache-error-of.js';

const stored: StoredValue<{ id: number }> = {
  value: { id: 1 },
  createdAtMs: 1_000,
  freshUntilMs: 61_000,
  staleUntilMs: 91_000,
};

describe('entry codec', () => {
  it('round-trips a value with its times', () => {
    expect(decodeValue(jsonSerializer, encodeValue(jsonSerializer, stored))).to.deep.equal(stored);
  });

  it('records the serializer name, and refuses an entry written by another serializer', () => {
    const bytes = encodeValue(msgpackSerializer, stored);
    const error = cacheErrorOf(() => decodeValue(jsonSerializer, bytes));
    expect(error.code).to.equal('E_DECODE_FAILED');
    expect(error.message).to.contain("'msgpack'").and.to.contain("'json'");
  });

  it('reports a payload its serializer cannot read as E_DECODE_FAILED, keeping the cause', () => {
    const lying = { ...jsonSerializer, serialize: () => Buffer.from('{"id":') };
    const error = cacheErrorOf(() => decodeValue(jsonSerializer, encodeValue(lying, stored)));
    expect(error.code).to.equal('E_DECODE_FAILED');
    expect(error.cause).to.be.instanceOf(SyntaxError);
  });

  it('lets an encode failure of the serializer through to the caller', () => {
    expect(() => encodeValue(jsonSerializer, { ...stored, value: 1n })).to.throw(TypeError);
  });

  it('writes the envelope into the headroom of a serializer that leaves one: the same bytes, one buffer', () => {
    const response = {
      kind: 'response' as const,
      status: 200,
      headers: [['Content-Type', 'application/json'] as [string, string]],
      body: Buffer.from('{"id":1}'),
      etag: 'W/"8-x"',
      route: '/items/:id',
    };
    const entry = { ...stored, value: response };
    const copied = encodeEntry({
      serializerName: responseSerializer.name,
      createdAtMs: entry.createdAtMs,
      freshUntilMs: entry.freshUntilMs,
      staleUntilMs: entry.staleUntilMs,
      payload: responseSerializer.serialize(response),
    });
    const bytes = encodeValue(responseSerializer, entry);
    expect(bytes.equals(copied)).to.equal(true);
    expect(decodeValue(responseSerializer, bytes)).to.deep.equal(entry);
  });

  it('refuses a headroom serializer that leaves too little room for the envelope', () => {
    const short = { ...jsonSerializer, serializeWithHeadroom: () => Buffer.alloc(3) };
    expect(() => encodeValue(short, stored)).to.throw(TypeError, /needs 32 bytes for its envelope, got 3/);
  });
});
