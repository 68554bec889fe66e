/**
 * Turns cached values into bytes and back. The `name` is written into every stored entry, so an
 * entry written by another serializer is recognised (and treated as a miss) instead of misread.
 */
export interface Serializer {
  /** Short, stable name recorded in each entry (at most 255 bytes of UTF-8), e.g. `'json'`. */
  readonly name: string;
  serialize(value: unknown): Buffer;
  /**
   * Optional: `serialize`, into a buffer whose first `headroom` bytes are left unused; the cache writes
   * the entry's envelope there. Saves a copy of every value written (a serializer without it has its
   * bytes copied behind the envelope).
   */
  serializeWithHeadroom?(value: unknown, headroom: number): Buffer;
  /** Throws when `bytes` is not something this serializer wrote. */
  deserialize(bytes: Buffer): unknown;
}
