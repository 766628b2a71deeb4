import lz4 from 'lz4js'
import xxhash from 'lz4js/xxh32.js'

/**
 * LZ4 as Kafka clients write it: the LZ4 frame format (magic 0x184D2204)
 * with independent or linked blocks, optional checksums and content size.
 *
 * The frame is read and written here; lz4js (pure JavaScript) does the
 * blocks. Its own frame writer links blocks, which Kafka's Java client
 * refuses ("Dependent block stream is unsupported"), and its reader allocates
 * (and zero-fills) 4 MiB per frame. Writing follows Kafka's Java client:
 * independent 64 KiB blocks, no checksums. Checksums inside a frame read are
 * not checked: the record batch's CRC-32C, checked before decompression,
 * covers them.
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

const FLAG_BLOCK_INDEPENDENCE = 0x20
const WRITE_BLOCK_SIZE_ID = 4 // 64 KiB
const WRITE_BLOCK_SIZE = 64 * 1024
const hashTable = new Uint32Array(1 << 16)
const blockOut = Buffer.allocUnsafe(WRITE_BLOCK_SIZE + Math.ceil(WRITE_BLOCK_SIZE / 255) + 16)

export function lz4Compress (data: Buffer): Buffer {
  const descriptor = Buffer.from([FLAG_VERSION_1 | FLAG_BLOCK_INDEPENDENCE, WRITE_BLOCK_SIZE_ID << 4])
  const header = Buffer.alloc(7)
  header.writeUInt32LE(FRAME_MAGIC, 0)
  descriptor.copy(header, 4)
  header[6] = (xxhash.hash(0, descriptor, 0, descriptor.length) >>> 8) & 0xff
  const parts: Buffer[] = [header]
  for (let at = 0; at < data.length; at += WRITE_BLOCK_SIZE) {
    const block = data.subarray(at, at + WRITE_BLOCK_SIZE)
    // A fresh table per block: no match may reach into an earlier block.
    hashTable.fill(0)
    const size = lz4.compressBlock(block, blockOut, 0, block.length, hashTable)
    const word = Buffer.alloc(4)
    if (size === 0 || size >= block.length) {
      word.writeUInt32LE((BLOCK_UNCOMPRESSED | block.length) >>> 0)
      parts.push(word, Buffer.from(block))
    } else {
      word.writeUInt32LE(size)
      parts.push(word, Buffer.from(blockOut.subarray(0, size)))
    }
  }
  parts.push(Buffer.alloc(4)) // end mark
  return Buffer.concat(parts)
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
