import { expect } from 'chai';
import type { CacheError } from '../../../src/errors.js';
import {
  decodeEntry,
  ENTRY_FORMAT_VERSION,
  type EntryEnvelope,
  encodeEntry,
} from '../../../src/serialization/entry-envelope.js';
import { cacheErrorOf } from '../../support/cache-error-of.js';

// A v1 entry as Redis holds it. Entries outlive deployments: if this test fails, old entries would
// be misread after an upgrade. Bump ENTRY_FORMAT_VERSION instead of editing this fixture.
const FROZEN_V1_HEX =
  'cac4' + // magic
  '01' + // format version
  '04' + // serializer name length
  '6a736f6e' + // "json"
  '4278bcfe56800000' + // createdAtMs 1700000000000, float64 big-endian
  '4278bcfe65260000' + // freshUntilMs 1700000060000
  '4278bcfe6c790000' + // staleUntilMs 1700000090000
  '7b226964223a317d'; // payload {"id":1}

const FROZEN_V1_ENTRY: EntryEnvelope = {
  serializerName: 'json',
  createdAtMs: 1_700_000_000_000,
  freshUntilMs: 1_700_000_060_000,
  staleUntilMs: 1_700_000_090_000,
  payload: Buffer.from('{"id":1}'),
};

/** The `CacheError` that decoding `bytes` throws. */
function decodeFailure(bytes: Buffer): CacheError {
  return cacheErrorOf(() => decodeEntry(bytes));
}

describe('entry envelope', () => {
  it('writes format version 1', () => {
    expect(ENTRY_FORMAT_VERSION).to.equal(1);
  });

  it('encodes a known entry to the frozen v1 bytes', () => {
    expect(encodeEntry(FROZEN_V1_ENTRY).toString('hex')).to.equal(FROZEN_V1_HEX);
  });

  it('decodes the frozen v1 bytes to the known entry', () => {
    expect(decodeEntry(Buffer.from(FROZEN_V1_HEX, 'hex'))).to.deep.equal(FROZEN_V1_ENTRY);
  });

  it('round-trips any payload, times and serializer name', () => {
    const entry: EntryEnvelope = {
      serializerName: 'brotli+msgpack',
      createdAtMs: 1.5,
      freshUntilMs: Number.MAX_SAFE_INTEGER,
      staleUntilMs: 0,
      payload: Buffer.from([0, 255, 0xca, 0xc4, 1]),
    };
    expect(decodeEntry(encodeEntry(entry))).to.deep.equal(entry);
  });

  it('round-trips an empty payload', () => {
    expect(
      decodeEntry(encodeEntry({ ...FROZEN_V1_ENTRY, payload: Buffer.alloc(0) })).payload,
    ).to.have.lengthOf(0);
  });

  it('rejects a serializer name that is empty or longer than 255 bytes', () => {
    expect(() => encodeEntry({ ...FROZEN_V1_ENTRY, serializerName: '' })).to.throw(TypeError);
    expect(() => encodeEntry({ ...FROZEN_V1_ENTRY, serializerName: 'é'.repeat(128) })).to.throw(
      TypeError,
      /255/,
    );
    expect(() => encodeEntry({ ...FROZEN_V1_ENTRY, serializerName: 'x'.repeat(255) })).to.not.throw();
  });

  describe('refuses what it did not write, with E_DECODE_FAILED', () => {
    const frozen = () => Buffer.from(FROZEN_V1_HEX, 'hex');

    it('bytes that are not an entry (bad magic)', () => {
      expect(decodeFailure(Buffer.from('invalid json')).code).to.equal('E_DECODE_FAILED');
      expect(decodeFailure(Buffer.from('invalid json')).message).to.contain('magic');
    });

    it('fewer bytes than a header', () => {
      expect(decodeFailure(Buffer.alloc(0)).code).to.equal('E_DECODE_FAILED');
      expect(decodeFailure(Buffer.from([0xca, 0xc4, 1])).code).to.equal('E_DECODE_FAILED');
    });

    it('another format version', () => {
      const bytes = frozen();
      bytes[2] = 2;
      const error = decodeFailure(bytes);
      expect(error.code).to.equal('E_DECODE_FAILED');
      expect(error.message).to.contain('version 2');
    });

    it('an entry cut short before its times end', () => {
      const error = decodeFailure(frozen().subarray(0, 4 + 4 + 23));
      expect(error.code).to.equal('E_DECODE_FAILED');
      expect(error.message).to.contain('truncated');
    });

    it('a name length pointing past the end', () => {
      const bytes = frozen().subarray(0, 40);
      bytes[3] = 200;
      expect(decodeFailure(bytes).code).to.equal('E_DECODE_FAILED');
    });
  });
});
