import { randomBytes } from 'node:crypto'
import snappy from 'snappyjs'
import { describe, expect, it } from 'vitest'
import { codecs, compressionIds, compressionNameOf, parseCompressionName } from '../../../../services/events/src/compression/codecs.js'
import { crc32c } from '../../../../services/events/src/compression/crc32c.js'
import { lz4Decompress } from '../../../../services/events/src/compression/lz4-frame.js'
import { isXerialFramed, snappyDecompress } from '../../../../services/events/src/compression/snappy-xerial.js'
import { readVarint, writeVarint } from '../../../../services/events/src/compression/varint.js'

const samples: Array<[string, Buffer]> = [
  ['one byte', Buffer.from([42])],
  ['random 1 KiB', randomBytes(1024)],
  ['repetitive 300 KiB (several snappy chunks, one LZ4 block)', Buffer.from('{"accountId":"acc-000042","amount":"12.50"}'.repeat(7000))],
  ['random 5 MiB (several LZ4 blocks)', randomBytes(5 * 1024 * 1024)]
]

describe('compression codecs', () => {
  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('%s: what it compresses decompresses to the same bytes', async (name) => {
    for (const [, data] of samples) {
      const compressed = await codecs[name].compress(data)
      expect((await codecs[name].decompress(compressed)).equals(data)).toBe(true)
    }
    const repetitive = samples[2]?.[1] as Buffer
    expect((await codecs[name].compress(repetitive)).length).toBeLessThan(repetitive.length / 10)
  })

  it('snappy writes xerial framing (as Java does) and reads raw snappy too (as librdkafka may write)', async () => {
    const data = samples[2]?.[1] as Buffer
    const framed = await codecs.snappy.compress(data)
    expect(isXerialFramed(framed)).toBe(true)
    expect(framed.readInt32BE(8)).toBe(1)
    const raw = Buffer.from(snappy.compress(data))
    expect(isXerialFramed(raw)).toBe(false)
    expect(snappyDecompress(raw).equals(data)).toBe(true)
  })

  it('snappy refuses a xerial frame whose chunk runs past the end', async () => {
    const framed = await codecs.snappy.compress(samples[1]?.[1] as Buffer)
    expect(() => snappyDecompress(framed.subarray(0, framed.length - 10))).toThrow(/past the end/)
  })

  it('lz4 reads frames with content size, block checksums and uncompressed blocks (as other writers make them)', () => {
    const content = Buffer.from('hello kafka, uncompressed block')
    const descriptor = Buffer.from([0x40 | 0x20 | 0x10 | 0x08, 0x40]) // v1, independent, block checksum, content size; 64 KiB
    const size = Buffer.alloc(8)
    size.writeBigUInt64LE(BigInt(content.length))
    const blockHeader = Buffer.alloc(4)
    blockHeader.writeUInt32LE((0x80000000 | content.length) >>> 0)
    const frame = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, size, Buffer.from([0]),
      blockHeader, content, Buffer.alloc(4), // the block checksum, not checked (the batch CRC is)
      Buffer.alloc(4) // end mark
    ])
    expect(lz4Decompress(frame).equals(content)).toBe(true)
  })

  it('lz4 writes frames as Kafka\'s Java client requires: version 1, independent 64 KiB blocks', async () => {
    const frame = await codecs.lz4.compress(samples[2]?.[1] as Buffer)
    expect(frame.readUInt32LE(0)).toBe(0x184d2204)
    expect(frame[4]).toBe(0x60) // "Dependent block stream is unsupported" otherwise
    expect(frame[5]).toBe(0x40)
  })

  it('lz4 refuses what is not a whole frame', async () => {
    expect(() => lz4Decompress(Buffer.from('not lz4 at all'))).toThrow(/bad magic/)
    const frame = await codecs.lz4.compress(samples[1]?.[1] as Buffer)
    expect(() => lz4Decompress(frame.subarray(0, frame.length - 5))).toThrow(/lz4/)
  })

  it('names codecs as Kafka numbers them, and parses KAFKA_COMPRESSION values', () => {
    expect(compressionIds).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 })
    expect([0, 1, 2, 3, 4, 5, 7].map(compressionNameOf)).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd', 'unknown-5', 'unknown-7'])
    expect(parseCompressionName(' LZ4 ')).toBe('lz4')
    expect(parseCompressionName('brotli')).toBeUndefined()
  })
})

describe('CRC-32C and varints', () => {
  it('computes the Castagnoli check value, also over split input', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32c(Buffer.from('1234'), Buffer.from('56789'))).toBe(0xe3069283)
  })

  it('round-trips zig-zag varints and refuses truncated ones', () => {
    for (const value of [0, -1, 1, 63, -64, 64, 300, -300, 2 ** 26, -(2 ** 27), 2 ** 27, 2 ** 31 - 1, -(2 ** 31)]) {
      expect(readVarint(writeVarint(value), 0)).toEqual({ value, next: writeVarint(value).length })
    }
    expect(readVarint(Buffer.from([0x80, 0x80]), 0)).toBeUndefined()
  })
})
