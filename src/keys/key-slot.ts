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

/** One byte more of a CRC16. */
function crcStep(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
}

/**
 * CRC16 of the UTF-8 bytes of `text` from `start` to `end` (code units), encoded on the fly: every
 * command on a Cluster hashes its key to find its master's circuit, and a buffer per key would cost an
 * allocation on each hit. A lone surrogate counts as U+FFFD, as `Buffer.from` encodes it.
 */
function crc16(text: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      crc = crcStep(crc, code);
      continue;
    }
    if (code < 0x800) {
      crc = crcStep(crcStep(crc, 0xc0 | (code >> 6)), 0x80 | (code & 0x3f));
      continue;
    }
    const low = i + 1 < end ? text.charCodeAt(i + 1) : 0;
    if (code >= 0xd800 && code < 0xdc00 && low >= 0xdc00 && low < 0xe000) {
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      i++;
      crc = crcStep(crcStep(crc, 0xf0 | (code >> 18)), 0x80 | ((code >> 12) & 0x3f));
    } else {
      if (code >= 0xd800 && code < 0xe000) code = 0xfffd;
      crc = crcStep(crc, 0xe0 | (code >> 12));
    }
    crc = crcStep(crcStep(crc, 0x80 | ((code >> 6) & 0x3f)), 0x80 | (code & 0x3f));
  }
  return crc;
}

/**
 * The Redis Cluster hash slot of `key`, by Redis's own rule: when the key has a `{`, and a `}` after
 * it with at least one character between, only that part is hashed; otherwise the whole key. Written
 * here rather than taken from `cluster-key-slot`, which hashes `a{}b{c}` on `b{c` where Redis hashes
 * the whole key: request URLs reach the key, so a key an attacker shapes must land where Redis puts it.
 */
export function keySlot(key: string): number {
  // Braces are ASCII, and no byte of a multi-byte UTF-8 character is one: the code units find them.
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) % SLOT_COUNT;
  }
  return crc16(key, 0, key.length) % SLOT_COUNT;
}
