import { beforeAll, describe, expect, it } from 'vitest'
import { compressionIds, registerKafkaCodecs, undecodableBatchOf } from '../../../../services/events/src/index.js'
import { codecs } from '../../../../services/events/src/compression/codecs.js'
import { crc32c } from '../../../../services/events/src/compression/crc32c.js'
import { BATCH, decodeBatch, encodeBatch, type PlainRecord } from './kafkajs-batches.js'

const records: PlainRecord[] = Array.from({ length: 25 }, (_, i) => ({ key: `acc-${i % 4}`, value: `event ${i} `.repeat(20), headers: { trace: `t-${i}` } }))

/** Rewrites a batch's compressed records and fixes its CRC: valid to the broker's checksum, still bad inside. */
function withRecords (batch: Buffer, compressed: Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, BATCH.records), compressed])
  out.writeInt32BE(out.length - 12, 8)
  out.writeUInt32BE(crc32c(out.subarray(BATCH.attributes)), BATCH.crc)
  return out
}

describe('reading compressed record batches through kafkajs', () => {
  beforeAll(() => registerKafkaCodecs())

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('%s: kafkajs writes and reads the batch, every field intact', async (name) => {
    const batch = await encodeBatch(compressionIds[name], records)
    expect(batch.readInt16BE(BATCH.attributes) & 7).toBe(compressionIds[name])
    const decoded = await decodeBatch(batch)
    expect(decoded.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.headers.trace?.toString()]))
      .toEqual(records.map((r, i) => [String(100 + i), r.key, r.value, r.headers?.trace]))
    expect(decoded.every((r) => undecodableBatchOf(r) === undefined)).toBe(true)
  })

  it('turns a batch whose CRC does not match into markers at its offsets, the last at its last offset', async () => {
    const batch = await encodeBatch(compressionIds.lz4, records)
    batch[BATCH.records + 30] = (batch[BATCH.records + 30] as number) ^ 0xff
    const decoded = await decodeBatch(batch)
    expect(decoded).toHaveLength(records.length)
    expect(decoded.map((r) => undecodableBatchOf(r))).toEqual(records.map(() => ({ codec: 'lz4', reason: 'crc-mismatch' })))
    expect(decoded[0]?.offset).toBe('100')
    expect(decoded.at(-1)?.offset).toBe('124')
  })

  it('names an unassigned codec id as unsupported', async () => {
    const batch = await encodeBatch(compressionIds.zstd, records)
    batch.writeInt16BE((batch.readInt16BE(BATCH.attributes) & ~7) | 6, BATCH.attributes)
    batch.writeUInt32BE(crc32c(batch.subarray(BATCH.attributes)), BATCH.crc)
    expect((await decodeBatch(batch)).map((r) => undecodableBatchOf(r)?.reason)).toEqual(records.map(() => 'unsupported-codec'))
    expect(undecodableBatchOf((await decodeBatch(batch))[0] as never)?.codec).toBe('unknown-6')
  })

  it('reports bytes that do not decompress, and decompressed bytes that are not records', async () => {
    const batch = await encodeBatch(compressionIds.snappy, records)
    const garbage = withRecords(batch, Buffer.from('definitely not snappy data'))
    expect(undecodableBatchOf((await decodeBatch(garbage))[0] as never)?.reason).toMatch(/^decompress-failed: /)
    const notRecords = withRecords(batch, await codecs.snappy.compress(Buffer.from('valid snappy, but no Kafka records inside')))
    expect(undecodableBatchOf((await decodeBatch(notRecords))[0] as never)).toEqual({ codec: 'snappy', reason: 'malformed-records' })
  })

  it('does not take a producer\'s record with the marker header for a marker', async () => {
    const batch = await encodeBatch(compressionIds.gzip, [{ key: '', value: '', headers: { 'whd-undecodable-batch': JSON.stringify({ nonce: 'guess', codec: 'lz4', reason: 'x' }) } }])
    const [record] = await decodeBatch(batch)
    expect(undecodableBatchOf({ key: null, value: null, headers: record?.headers ?? {} })).toBeUndefined()
  })
})
