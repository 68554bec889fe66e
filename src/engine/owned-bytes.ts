/**
 * `chunks` (of `byteLength` bytes in all) copied into one buffer of exactly that size, shared with
 * nothing: for bytes that are held for long. `Buffer.concat` and `Buffer.allocUnsafe` cut buffers under
 * 4 KiB out of Node's 8 KiB pool, and a buffer read from a socket is a view into the chunk it came in
 * (up to 64 KiB): holding either pins the whole of its memory, not only its own bytes.
 */
export function ownedBytes(chunks: readonly Uint8Array[], byteLength: number): Buffer {
  const owned = Buffer.allocUnsafeSlow(byteLength);
  let offset = 0;
  for (const chunk of chunks) {
    owned.set(chunk, offset);
    offset += chunk.length;
  }
  return owned;
}
