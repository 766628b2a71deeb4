import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { lz4Compress, lz4Decompress } from './lz4-frame.js'
import { snappyCompress, snappyDecompress } from './snappy-xerial.js'

/** The compression codecs of Kafka's record batch format, by their config names. */
export const compressionNames = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CompressionName = typeof compressionNames[number]

/**
 * What the dispatcher and the producer library write with unless told
 * otherwise (KAFKA_COMPRESSION). Chosen by measurement: see the README's
 * producer section.
 */
export const DEFAULT_KAFKA_COMPRESSION: CompressionName = 'zstd'

/** Kafka's codec ids: bits 0–2 of a record batch's attributes. */
export const compressionIds: Readonly<Record<CompressionName, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

/** The codec a KAFKA_COMPRESSION value names (case and spaces ignored), or undefined. */
export function parseCompressionName (raw: string): CompressionName | undefined {
  const value = raw.trim().toLowerCase()
  return (compressionNames as readonly string[]).includes(value) ? value as CompressionName : undefined
}

export function compressionNameOf (id: number): string {
  return compressionNames[id] ?? `unknown-${id}`
}

export interface BytesCodec {
  compress: (data: Buffer) => Promise<Buffer>
  decompress: (data: Buffer) => Promise<Buffer>
}

/**
 * zstd is Node's own (zlib, Node ≥ 22.15); gzip too. Snappy and LZ4 are
 * pure JavaScript (snappyjs, lz4js), so nothing native has to be built or
 * downloaded for any platform the image or a developer runs on.
 */
export const codecs: Readonly<Record<Exclude<CompressionName, 'none'>, BytesCodec>> = {
  // unzip, like kafkajs's own gzip codec: it also reads zlib-wrapped data.
  gzip: zlibCodec(zlib.gzipSync, zlib.unzipSync, promisify(zlib.gzip), promisify(zlib.unzip)),
  snappy: { compress: async (data) => snappyCompress(data), decompress: async (data) => snappyDecompress(data) },
  lz4: { compress: async (data) => lz4Compress(data), decompress: async (data) => lz4Decompress(data) },
  zstd: zstdCodec()
}

function zstdCodec (): BytesCodec {
  if (typeof zlib.zstdCompress !== 'function') {
    const missing = async (): Promise<Buffer> => { throw new Error(`zstd needs Node.js >= 22.15; this is ${process.version}`) }
    return { compress: missing, decompress: missing }
  }
  return zlibCodec(zlib.zstdCompressSync, zlib.zstdDecompressSync, promisify(zlib.zstdCompress), promisify(zlib.zstdDecompress))
}

/**
 * Most record batches are a few KiB, where a trip to libuv's thread pool
 * costs more than the work (it halved consume throughput in
 * `make bench-compression`); those run inline. Large ones go to the pool so
 * the event loop does not stall on them.
 */
const INLINE_LIMIT = 64 * 1024

type Sync = (data: Buffer) => Buffer
type Async = (data: Buffer) => Promise<Buffer>

function zlibCodec (compressSync: Sync, decompressSync: Sync, compress: Async, decompress: Async): BytesCodec {
  return {
    compress: async (data) => data.length <= INLINE_LIMIT ? compressSync(data) : await compress(data),
    decompress: async (data) => data.length <= INLINE_LIMIT / 4 ? decompressSync(data) : await decompress(data)
  }
}
