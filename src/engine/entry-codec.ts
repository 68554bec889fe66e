import { CacheError } from '../errors.js';
import { decodeEntry, encodeEntry, envelopeLength, writeEnvelope } from '../serialization/entry-envelope.js';
import type { Serializer } from '../serialization/serializer.js';

/** A decoded entry with its value. */
export interface StoredValue<T> {
  value: T;
  createdAtMs: number;
  freshUntilMs: number;
  staleUntilMs: number;
}

/** Writes a value and its times into the stored envelope. */
export function encodeValue<T>(serializer: Serializer, stored: StoredValue<T>): Buffer {
  if (serializer.serializeWithHeadroom !== undefined) {
    const headroom = envelopeLength(serializer.name);
    return writeEnvelope(serializer.serializeWithHeadroom(stored.value, headroom), {
      serializerName: serializer.name,
      createdAtMs: stored.createdAtMs,
      freshUntilMs: stored.freshUntilMs,
      staleUntilMs: stored.staleUntilMs,
    });
  }
  return encodeEntry({
    serializerName: serializer.name,
    createdAtMs: stored.createdAtMs,
    freshUntilMs: stored.freshUntilMs,
    staleUntilMs: stored.staleUntilMs,
    payload: serializer.serialize(stored.value),
  });
}

/** Reads an envelope; throws `E_DECODE_FAILED` for foreign, corrupt or other-serializer entries. */
export function decodeValue<T>(serializer: Serializer, bytes: Buffer): StoredValue<T> {
  const entry = decodeEntry(bytes);
  if (entry.serializerName !== serializer.name) {
    throw new CacheError(
      'E_DECODE_FAILED',
      `stored entry was written by serializer '${entry.serializerName}', this cache uses '${serializer.name}'`,
    );
  }
  let value: T;
  try {
    value = serializer.deserialize(entry.payload) as T;
  } catch (error) {
    throw new CacheError(
      'E_DECODE_FAILED',
      `stored entry could not be deserialized by '${serializer.name}'`,
      {
        cause: error,
      },
    );
  }
  return {
    value,
    createdAtMs: entry.createdAtMs,
    freshUntilMs: entry.freshUntilMs,
    staleUntilMs: entry.staleUntilMs,
  };
}
