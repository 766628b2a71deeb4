import { existsSync } from 'node:fs'
import { open, readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { crc32c } from '../../services/events/src/compression/crc32c.js'

/**
 * Reads, and for fault injection rewrites, the record batches a local broker
 * keeps on disk: the only way to see which codec a batch was written with,
 * and to make a batch the broker would never accept (it checks CRCs and
 * decompresses on produce, not on fetch). Needs the local stack of
 * deploy/local/ (`STACK_RUN_DIR`, default .run/stack).
 */
/** The repository root, from the sources or from their build under dist/. */
export function repoRoot (): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'deploy/local/stack.sh'))) return dir
    if (dirname(dir) === dir) throw new Error(`no repository root above ${import.meta.dirname}`)
  }
}

export function kafkaLogDir (): string {
  const dir = process.env.KAFKA_LOG_DIR ?? join(process.env.STACK_RUN_DIR ?? join(repoRoot(), '.run/stack'), 'kafka-data')
  if (!existsSync(dir)) throw new Error(`no Kafka log directory at ${dir}: these tests inspect the local stack's log (make stack-up), or set KAFKA_LOG_DIR`)
  return dir
}

export interface StoredBatch {
  file: string
  /** Byte position of the batch in its segment file. */
  position: number
  baseOffset: bigint
  lastOffset: bigint
  codecId: number
  recordCount: number
  length: number
}

/** Every record batch of one partition, in log order. */
export async function storedBatches (topic: string, partition: number): Promise<StoredBatch[]> {
  const dir = join(kafkaLogDir(), `${topic}-${partition}`)
  const segments = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort()
  const batches: StoredBatch[] = []
  for (const segment of segments) {
    const file = join(dir, segment)
    const bytes = await readFile(file)
    for (let at = 0; at + 61 <= bytes.length;) {
      const length = bytes.readInt32BE(at + 8)
      if (length <= 0 || at + 12 + length > bytes.length) break
      const baseOffset = bytes.readBigInt64BE(at)
      batches.push({
        file,
        position: at,
        baseOffset,
        lastOffset: baseOffset + BigInt(bytes.readInt32BE(at + 23)),
        codecId: bytes.readInt16BE(at + 21) & 0x07,
        recordCount: bytes.readInt32BE(at + 57),
        length: 12 + length
      })
      at += 12 + length
    }
  }
  return batches
}

/** Codec ids of every batch of every partition of a topic. */
export async function storedCodecs (topic: string, partitions: number): Promise<number[]> {
  const ids: number[] = []
  for (let p = 0; p < partitions; p++) ids.push(...(await storedBatches(topic, p)).map((b) => b.codecId))
  return ids
}

/**
 * Rewrites one stored batch in place (same length, so the broker's indexes
 * stay valid): `flip-payload` corrupts its compressed records (the CRC no
 * longer matches); `codec` sets an unassigned codec id and a matching CRC.
 */
export async function damageBatch (batch: StoredBatch, how: { kind: 'flip-payload' } | { kind: 'codec', id: number }): Promise<void> {
  const handle = await open(batch.file, 'r+')
  try {
    const bytes = Buffer.alloc(batch.length)
    await handle.read(bytes, 0, batch.length, batch.position)
    if (how.kind === 'flip-payload') {
      const middle = 61 + Math.floor((batch.length - 61) / 2)
      for (let i = middle; i < Math.min(batch.length, middle + 8); i++) bytes[i] = (bytes[i] as number) ^ 0x5a
    } else {
      bytes.writeInt16BE((bytes.readInt16BE(21) & ~0x07) | how.id, 21)
      bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17)
    }
    await handle.write(bytes, 0, batch.length, batch.position)
  } finally {
    await handle.close()
  }
}
