import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import {
  type CompressionAlgorithm,
  compressedSerializer,
} from '../../../src/serialization/compressed-serializer.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack-serializer.js';

const repetitive = {
  rows: Array.from({ length: 200 }, (_, id) => ({ id, status: 'active', region: 'eu-west-1' })),
};

describe('compressedSerializer', () => {
  for (const algorithm of ['gzip', 'brotli'] as const satisfies readonly CompressionAlgorithm[]) {
    describe(algorithm, () => {
      const serializer = compressedSerializer(jsonSerializer, { algorithm });

      it(`is named ${algorithm}+json, recording both layers`, () => {
        expect(serializer.name).to.equal(`${algorithm}+json`);
      });

      it('round-trips a value', () => {
        expect(serializer.deserialize(serializer.serialize(repetitive))).to.deep.equal(repetitive);
      });

      it('makes a repetitive value much smaller', () => {
        const plain = jsonSerializer.serialize(repetitive).length;
        expect(serializer.serialize(repetitive).length).to.be.below(plain / 5);
      });

      it('throws for bytes it did not compress', () => {
        expect(() => serializer.deserialize(Buffer.from('{"id":1}'))).to.throw();
      });
    });
  }

  it('uses gzip by default, readable by any gunzip', () => {
    const serializer = compressedSerializer(jsonSerializer);
    expect(serializer.name).to.equal('gzip+json');
    expect(JSON.parse(gunzipSync(serializer.serialize({ id: 1 })).toString())).to.deep.equal({ id: 1 });
  });

  it('wraps any serializer, msgpack and its Buffers included', () => {
    const serializer = compressedSerializer(msgpackSerializer, { algorithm: 'brotli' });
    expect(serializer.name).to.equal('brotli+msgpack');
    const decoded = serializer.deserialize(serializer.serialize({ bytes: Buffer.from([1, 2, 3]) })) as {
      bytes: Uint8Array;
    };
    expect([...decoded.bytes]).to.deep.equal([1, 2, 3]);
  });

  it('rejects an unsupported algorithm with a TypeError naming it', () => {
    expect(() =>
      compressedSerializer(jsonSerializer, { algorithm: 'zstd' as unknown as CompressionAlgorithm }),
    ).to.throw(TypeError, /zstd/);
  });
});
