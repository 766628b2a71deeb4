import { randomBytes } from 'node:crypto'
import type { IHeaders } from 'kafkajs'
import { crc32c } from './crc32c.js'
import { readVarint, writeVarint } from './varint.js'

/**
 * A compressed record batch that cannot be decoded (a corrupt batch, a codec
 * this process lacks) must stop only its own partition, never the consumer
 * (kafkajs fails the whole fetch, every partition of the broker with it, and
 * the consumer restarts into the same batch forever).
 *
 * kafkajs hands a codec only the compressed bytes. They are a view into the
 * fetch response, directly behind the batch header (magic v2), so the header
 * is read from there: its CRC-32C is checked before decompressing, and a
 * batch that fails is replaced by marker records, one per record the header
 * announces (kafkajs decodes exactly that many), with the batch's offsets.
 * The marker carries a per-process nonce, so no producer can forge one.
 * Consumers check each message with {@link undecodableBatchOf} and stop
 * the partition at the first marker: nothing at or past the batch is
 * processed or committed.
 */

/** Bytes of a magic-v2 batch before its records: base offset … record count. */
const HEADER_LENGTH = 61
const AT = { length: 8, magic: 16, crc: 17, attributes: 21, lastOffsetDelta: 23, recordCount: 57 } as const
/** Batch length counts from the partition leader epoch, 12 bytes in. */
const LENGTH_FIELD_END = 12
const MAX_MARKERS = 1_000_000
const MARKER_HEADER = 'whd-undecodable-batch'
const nonce = randomBytes(12).toString('base64url')

export interface BatchHeader {
  baseOffset: bigint
  codecId: number
  lastOffsetDelta: number
  recordCount: number
  crcValid: boolean
}

export interface UndecodableBatch {
  /** The batch's codec name (`lz4`, `unknown-5`, …). */
  codec: string
  /** Why: `crc-mismatch`, `unsupported-codec`, `decompress-failed: …`, `malformed-records`. */
  reason: string
}

/**
 * The header of the batch whose compressed records `compressed` is, or
 * undefined when the bytes are not laid out as kafkajs 2.2 lays them out.
 */
export function batchHeaderOf (compressed: Buffer): BatchHeader | undefined {
  if (compressed.byteOffset < HEADER_LENGTH) return undefined
  const header = Buffer.from(compressed.buffer, compressed.byteOffset - HEADER_LENGTH, HEADER_LENGTH)
  if (header.readInt8(AT.magic) !== 2) return undefined
  if (header.readInt32BE(AT.length) !== HEADER_LENGTH - LENGTH_FIELD_END + compressed.length) return undefined
  return {
    baseOffset: header.readBigInt64BE(0),
    codecId: header.readInt16BE(AT.attributes) & 0x07,
    lastOffsetDelta: header.readInt32BE(AT.lastOffsetDelta),
    recordCount: header.readInt32BE(AT.recordCount),
    crcValid: crc32c(header.subarray(AT.attributes), compressed) === header.readUInt32BE(AT.crc)
  }
}

/**
 * Whether `records` holds exactly `count` well-formed records (length-
 * prefixed; attributes, deltas, key, value, headers), so kafkajs can decode
 * them without throwing.
 */
export function recordsWellFormed (records: Buffer, count: number): boolean {
  let at = 0
  for (let i = 0; i < count; i++) {
    const length = readVarint(records, at)
    if (length === undefined || length.value < 1) return false
    const end = length.next + length.value
    if (end > records.length || !recordWellFormed(records.subarray(length.next, end))) return false
    at = end
  }
  return at === records.length
}

function recordWellFormed (record: Buffer): boolean {
  let at = 1 // attributes
  const field = (nullable: boolean, bytes: boolean): boolean => {
    const v = readVarint(record, at)
    if (v === undefined) return false
    at = v.next
    if (!bytes) return true
    if (v.value === -1 && nullable) return true
    if (v.value < 0 || at + v.value > record.length) return false
    at += v.value
    return true
  }
  if (!field(false, false) || !field(false, false)) return false // timestamp delta, offset delta
  if (!field(true, true) || !field(true, true)) return false // key, value
  const headers = readVarint(record, at)
  if (headers === undefined || headers.value < 0) return false
  at = headers.next
  for (let h = 0; h < headers.value; h++) {
    if (!field(false, true) || !field(true, true)) return false
  }
  return at === record.length
}

/**
 * What kafkajs decodes in place of an undecodable batch: `recordCount`
 * markers. The last one sits at the batch's last offset, so a fetch that
 * starts inside the batch still meets a marker.
 */
export function markerRecords (header: BatchHeader, problem: UndecodableBatch): Buffer {
  if (header.recordCount > MAX_MARKERS) throw new Error(`undecodable ${problem.codec} batch at offset ${header.baseOffset} (${problem.reason}) announces ${header.recordCount} records`)
  const key = Buffer.from(MARKER_HEADER)
  const value = Buffer.from(JSON.stringify({ nonce, ...problem }))
  const parts: Buffer[] = []
  for (let i = 0; i < header.recordCount; i++) {
    const offsetDelta = i === header.recordCount - 1 ? header.lastOffsetDelta : Math.min(i, header.lastOffsetDelta)
    const body = Buffer.concat([
      Buffer.from([0]), writeVarint(0), writeVarint(offsetDelta), writeVarint(-1), writeVarint(-1),
      writeVarint(1), writeVarint(key.length), key, writeVarint(value.length), value
    ])
    parts.push(writeVarint(body.length), body)
  }
  return Buffer.concat(parts)
}

/** The problem a marker record stands for, or undefined for a real record. */
export function undecodableBatchOf (message: { key: Buffer | null, value: Buffer | null, headers?: IHeaders }): UndecodableBatch | undefined {
  if (message.key !== null || message.value !== null) return undefined
  const raw = message.headers?.[MARKER_HEADER]
  if (!Buffer.isBuffer(raw)) return undefined
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { nonce?: unknown, codec?: unknown, reason?: unknown }
    if (parsed.nonce !== nonce || typeof parsed.codec !== 'string' || typeof parsed.reason !== 'string') return undefined
    return { codec: parsed.codec, reason: parsed.reason }
  } catch {
    return undefined
  }
}
