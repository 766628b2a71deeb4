import lz4 from 'lz4js'

/**
 * LZ4 as Kafka clients write it: the LZ4 frame format (magic 0x184D2204)
 * with independent or linked blocks, optional checksums and content size.
 *
 * Writing uses lz4js's frame writer. Reading parses the frame here and lets
 * lz4js decode each block into a buffer sized from the block itself:
 * lz4js's own reader allocates (and zero-fills) the frame's maximum block
 * size, 4 MiB, for every frame. Checksums inside the frame are not checked:
 * the record batch's CRC-32C, checked before decompression, covers them.
 */
const FRAME_MAGIC = 0x184d2204
const FLAG_VERSION_MASK = 0xc0
const FLAG_VERSION_1 = 0x40
const FLAG_BLOCK_CHECKSUM = 0x10
const FLAG_CONTENT_SIZE = 0x08
const FLAG_DICTIONARY_ID = 0x01
const BLOCK_UNCOMPRESSED = 0x80000000
const BLOCK_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 }
/** An LZ4 sequence can expand its input at most about 255-fold. */
const MAX_EXPANSION = 255

export function lz4Compress (data: Buffer): Buffer {
  const frame = lz4.compress(data)
  return Buffer.from(frame.buffer, frame.byteOffset, frame.length)
}

export function lz4Decompress (frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== FRAME_MAGIC) throw new Error('lz4: not an LZ4 frame (bad magic number)')
  const flags = frame[4] as number
  if ((flags & FLAG_VERSION_MASK) !== FLAG_VERSION_1) throw new Error(`lz4: unsupported frame version ${(flags & FLAG_VERSION_MASK) >> 6}`)
  if ((flags & FLAG_DICTIONARY_ID) !== 0) throw new Error('lz4: frames with a dictionary are not supported')
  const maxBlockSize = BLOCK_SIZES[((frame[5] as number) >> 4) & 0x07]
  if (maxBlockSize === undefined) throw new Error('lz4: invalid maximum block size')
  const first = 6 + ((flags & FLAG_CONTENT_SIZE) !== 0 ? 8 : 0) + 1 // descriptor, content size, header checksum
  const blocks = readBlocks(frame, first, maxBlockSize, (flags & FLAG_BLOCK_CHECKSUM) !== 0 ? 4 : 0)
  // One buffer for the whole content: in linked-block frames a match may
  // reach back into the previous block.
  const out = Buffer.allocUnsafe(blocks.reduce((n, b) => n + (b.compressed ? Math.min(maxBlockSize, b.size * MAX_EXPANSION + 64) : b.size), 0))
  let end = 0
  for (const block of blocks) {
    if (block.compressed) {
      end = lz4.decompressBlock(frame, out, block.at, block.size, end)
      if (!(end >= 0 && end <= out.length)) throw new Error('lz4: corrupt block')
    } else {
      end += frame.copy(out, end, block.at, block.at + block.size)
    }
  }
  return out.subarray(0, end)
}

interface Block { at: number, size: number, compressed: boolean }

function readBlocks (frame: Buffer, first: number, maxBlockSize: number, checksumLength: number): Block[] {
  const blocks: Block[] = []
  let at = first
  for (;;) {
    if (at + 4 > frame.length) throw new Error('lz4: frame ends without an end mark')
    const word = frame.readUInt32LE(at)
    at += 4
    if (word === 0) return blocks
    const size = (word & ~BLOCK_UNCOMPRESSED) >>> 0
    if (size > maxBlockSize || at + size + checksumLength > frame.length) throw new Error('lz4: block runs past the end of the frame')
    blocks.push({ at, size, compressed: (word & BLOCK_UNCOMPRESSED) === 0 })
    at += size + checksumLength
  }
}
