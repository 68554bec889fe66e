/** How many hash slots a Redis Cluster has. */
export const SLOT_COUNT = 16_384;

// CRC16-CCITT (XModem), the checksum Redis Cluster hashes keys with (cluster spec, "Keys distribution model").
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/**
 * The Redis Cluster hash slot of `key`, by Redis's own rule: when the key has a `{`, and a `}` after
 * it with at least one character between, only that part is hashed; otherwise the whole key. Written
 * here rather than taken from `cluster-key-slot`, which hashes `a{}b{c}` on `b{c` where Redis hashes
 * the whole key: request URLs reach the key, so a key an attacker shapes must land where Redis puts it.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(bytes) % SLOT_COUNT;
}
