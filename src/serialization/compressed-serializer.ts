import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { Serializer } from './serializer.js';

/** Compression algorithms offered by {@link compressedSerializer}. */
export type CompressionAlgorithm = 'gzip' | 'brotli';

/** Options of {@link compressedSerializer}. */
export interface CompressedSerializerOptions {
  /** Compression algorithm. Default `'gzip'`. */
  algorithm?: CompressionAlgorithm;
}

const codecs = {
  gzip: { compress: gzipSync, decompress: gunzipSync },
  brotli: { compress: brotliCompressSync, decompress: brotliDecompressSync },
} as const;

/**
 * Wraps another serializer and compresses its output; worth it for large, repetitive values.
 * Its name (`gzip+json`, `brotli+msgpack`…) records both layers.
 */
export function compressedSerializer(
  inner: Serializer,
  options: CompressedSerializerOptions = {},
): Serializer {
  const algorithm = options.algorithm ?? 'gzip';
  const codec = codecs[algorithm];
  if (codec === undefined) {
    throw new TypeError(
      `compressedSerializer: algorithm must be 'gzip' or 'brotli', got ${String(algorithm)}`,
    );
  }
  return {
    name: `${algorithm}+${inner.name}`,
    serialize(value) {
      return codec.compress(inner.serialize(value));
    },
    deserialize(bytes) {
      return inner.deserialize(codec.decompress(bytes));
    },
  };
}
