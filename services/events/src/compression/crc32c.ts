/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batch format (magic
 * v2). Table-driven; a batch header is checked once per compressed batch,
 * which costs far less than decompressing it.
 */
const table = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32C over the given byte ranges, in order, as one stream. */
export function crc32c (...parts: Uint8Array[]): number {
  let crc = 0xffffffff
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) crc = (table[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8)
  }
  return (crc ^ 0xffffffff) >>> 0
}
