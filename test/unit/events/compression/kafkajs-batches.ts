import { createRequire } from 'node:module'

// kafkajs's own record batch encoder and decoder (magic v2): the code a real
// fetch runs, driven here without a broker so each failure can be made exactly.
const require = createRequire(import.meta.url)
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> }
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: Record<string, unknown>) => unknown
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: DecodedRecord[] }>
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown
const Long = require('kafkajs/src/utils/long.js') as { fromValue: (v: string | number) => unknown }

export interface DecodedRecord {
  offset: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer>
}

export interface PlainRecord {
  key: string
  value: string
  headers?: Record<string, string>
}

/** A whole record batch as a broker returns it, at `firstOffset`. */
export async function encodeBatch (compression: number, records: PlainRecord[], firstOffset = 100): Promise<Buffer> {
  const encoded = await RecordBatch({
    compression,
    firstOffset: Long.fromValue(firstOffset),
    lastOffsetDelta: records.length - 1,
    records: records.map((r, i) => Record({ offsetDelta: i, key: Buffer.from(r.key), value: Buffer.from(r.value), headers: r.headers ?? {} }))
  })
  return encoded.buffer
}

/**
 * Decodes a batch the way kafkajs decodes a fetch response: from inside a
 * larger buffer (what comes before is another partition's data).
 */
export async function decodeBatch (batch: Buffer): Promise<DecodedRecord[]> {
  const response = Buffer.concat([Buffer.alloc(64, 7), batch])
  const decoder = new Decoder(response.subarray(64)) as unknown
  return (await RecordBatchDecoder(decoder)).records
}

/** Offsets in a batch: attributes at 21, CRC at 17, records from 61. */
export const BATCH = { crc: 17, attributes: 21, records: 61 } as const
