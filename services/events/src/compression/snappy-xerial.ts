import snappy from 'snappyjs'

/**
 * Snappy as Kafka clients write it. Java's producer wraps raw Snappy in
 * xerial's stream framing (a magic header, then length-prefixed chunks);
 * librdkafka and kafkajs codecs may write plain raw Snappy. Reading accepts
 * both; writing uses the xerial framing, which every Kafka client reads.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_LENGTH = 16
/** xerial's default block size: each chunk compresses at most this much input. */
const CHUNK_SIZE = 32 * 1024

export function isXerialFramed (data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_LENGTH && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)
}

export function snappyCompress (data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_LENGTH)
  XERIAL_MAGIC.copy(header, 0)
  header.writeInt32BE(1, 8) // stream version
  header.writeInt32BE(1, 12) // minimum compatible version
  const parts: Buffer[] = [header]
  for (let at = 0; at < data.length; at += CHUNK_SIZE) {
    const chunk = Buffer.from(snappy.compress(data.subarray(at, at + CHUNK_SIZE)))
    const length = Buffer.alloc(4)
    length.writeInt32BE(chunk.length, 0)
    parts.push(length, chunk)
  }
  return Buffer.concat(parts)
}

export function snappyDecompress (data: Buffer): Buffer {
  if (!isXerialFramed(data)) return Buffer.from(snappy.uncompress(data))
  const parts: Buffer[] = []
  let at = XERIAL_HEADER_LENGTH
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error('xerial snappy: truncated chunk length')
    const length = data.readInt32BE(at)
    at += 4
    if (length < 0 || at + length > data.length) throw new Error('xerial snappy: chunk runs past the end')
    parts.push(Buffer.from(snappy.uncompress(data.subarray(at, at + length))))
    at += length
  }
  return Buffer.concat(parts)
}
