import { ParkedRecordFormatError } from '../errors.js'
import type { IHeaders } from 'kafkajs'
import { deadLetterDetail } from './dead-letter-detail.js'
import type { DeliveryState, DeliveryTask, RawRecord, RecordCoordinates } from './delivery-task.js'

/**
 * The record format of the retry and dead-letter topics. The value and key
 * are the source record's own bytes; what the dispatcher knows about the
 * delivery travels in `whd-` headers, beside the source record's headers.
 * Pure functions: no Kafka I/O here.
 */
export const H = Object.freeze({
  subscriptionId: 'whd-subscription-id',
  sourceTopic: 'whd-source-topic',
  sourcePartition: 'whd-source-partition',
  sourceOffset: 'whd-source-offset',
  sourceTimestamp: 'whd-source-timestamp',
  firstFailureAt: 'whd-first-failure-at',
  lastFailureAt: 'whd-last-failure-at',
  attempts: 'whd-attempts',
  lastStatus: 'whd-last-status',
  lastError: 'whd-last-error',
  parkedAt: 'whd-parked-at',
  reason: 'whd-dead-letter-reason',
  /** What happened, in words, for an operator (engine/dead-letter-detail.ts). */
  detail: 'whd-dead-letter-detail',
  deadLetteredAt: 'whd-dead-lettered-at',
  redrivenAt: 'whd-redriven-at',
  /** Lineage of a redriven record (dead-letters/lifecycle.ts): the dead letter it came from. */
  redriveOf: 'whd-redrive-of',
  /** The redrive that wrote it. */
  redriveId: 'whd-redrive-id',
  /** Who asked for that redrive. */
  redrivenBy: 'whd-redriven-by',
  /** How many times the letter has been redriven, this one included. */
  redrives: 'whd-redrives',
  notBefore: 'whd-not-before',
  /** The owner (handover token) that parked a record, or wrote a marker. */
  owner: 'whd-owner',
  /** A handover marker: `claim` or `release` (engine/handover.ts). */
  handover: 'whd-handover'
})

const ownHeaderPrefix = 'whd-'

/**
 * `whd-` headers that travel with the record like its own: the lineage of a
 * redriven record stays with it through re-parking and into a dead letter
 * written again, so what became of the redrive can be told (and a letter
 * dead again names its predecessor).
 */
const lineageHeaders: ReadonlySet<string> = new Set([H.redriveOf, H.redriveId, H.redrivenBy, H.redrivenAt, H.redrives])

/** A record as produced: what kafkajs `send` takes. */
export interface OutgoingRecord {
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string | Buffer>
}

/** Delivery state read back from a parked or dead-lettered record. */
export interface ParkedState extends DeliveryState {
  source: RecordCoordinates
  record: RawRecord
}

function originalHeaders (headers: IHeaders, ownCopies = false): Record<string, string | Buffer> {
  const copy: Record<string, string | Buffer> = {}
  for (const [name, value] of Object.entries(headers)) {
    if ((name.startsWith(ownHeaderPrefix) && !lineageHeaders.has(name)) || value === undefined) continue
    // Repeated headers arrive as arrays; the source records here never use
    // them, so the first value is kept.
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) copy[name] = ownCopies ? ownCopy(first) : first
  }
  return copy
}

/**
 * A buffer of its own for bytes a parked delivery keeps: kafkajs hands out
 * slices of the whole fetched (decompressed) batch, and one slice held for
 * the hours a delivery can wait keeps the batch's memory alive with it —
 * about 5 KB of RSS per parked delivery beyond the heap (bench/backlog.md).
 * Small copies come from Node's shared pool, dense.
 */
function ownCopy<T extends Buffer | string | null> (bytes: T): T {
  return (Buffer.isBuffer(bytes) ? Buffer.from(bytes) : bytes) as T
}

function stateHeaders (state: Omit<ParkedState, 'record'> & { record: RawRecord }): Record<string, string> {
  const headers: Record<string, string> = {
    [H.sourceTopic]: state.source.topic,
    [H.sourcePartition]: String(state.source.partition),
    [H.sourceOffset]: state.source.offset.toString(),
    [H.sourceTimestamp]: String(state.record.timestamp),
    [H.attempts]: String(state.attempts)
  }
  if (state.subscriptionId !== undefined) headers[H.subscriptionId] = state.subscriptionId
  if (state.firstFailureAt !== undefined) headers[H.firstFailureAt] = String(state.firstFailureAt)
  if (state.lastFailureAt !== undefined) headers[H.lastFailureAt] = String(state.lastFailureAt)
  if (state.lastStatus !== undefined) headers[H.lastStatus] = String(state.lastStatus)
  // Error texts come from our own classifier, never from a response body, so
  // they hold no tenant data; still bounded.
  if (state.lastError !== undefined) headers[H.lastError] = state.lastError.slice(0, 500)
  return headers
}

/** A failed delivery, parked on the retry topic by `owner` (its handover token). */
export function toParkedRecord (task: DeliveryTask, now: number, owner?: string): OutgoingRecord {
  const headers: Record<string, string | Buffer> = {
    ...originalHeaders(task.record.headers),
    ...stateHeaders({ ...task, subscriptionId: task.subscriptionId }),
    [H.parkedAt]: String(now)
  }
  if (owner !== undefined) headers[H.owner] = owner
  if (task.notBefore !== undefined) headers[H.notBefore] = String(task.notBefore)
  // A redriven delivery moved within its lane stays a redriven one.
  if (task.redrivenAt !== undefined) headers[H.redrivenAt] = String(task.redrivenAt)
  return { key: task.record.key, value: task.record.value, headers }
}

/** The Retry-After deadline a parked record carries, if any. */
export function readNotBefore (headers: IHeaders | undefined): number | undefined {
  return intHeader(headers ?? {}, H.notBefore)
}

/**
 * A dead letter: an exhausted delivery (with its subscription) or a source
 * record that could not be decoded (without one, and with the decoder's
 * `detail`).
 */
export function toDeadLetterRecord (state: ParkedState, reason: string, now: number, detail?: string): OutgoingRecord {
  return {
    key: state.record.key,
    value: state.record.value,
    headers: {
      ...originalHeaders(state.record.headers),
      ...stateHeaders(state),
      [H.reason]: reason,
      [H.detail]: deadLetterDetail(reason, state, detail),
      [H.deadLetteredAt]: String(now)
    }
  }
}

/** A header as text; undefined when absent or empty. */
export function header (headers: IHeaders, name: string): string | undefined {
  const value = headers[name]
  const first = Array.isArray(value) ? value[0] : value
  if (first === undefined) return undefined
  const decoded = Buffer.isBuffer(first) ? first.toString('utf8') : String(first)
  return decoded === '' ? undefined : decoded
}

/** A header as a safe integer; undefined when absent or not one. */
export function intHeader (headers: IHeaders, name: string): number | undefined {
  const raw = header(headers, name)
  if (raw === undefined || !/^-?\d+$/.test(raw)) return undefined
  const value = Number(raw)
  return Number.isSafeInteger(value) ? value : undefined
}

/** Reads the delivery state of a retry-topic or dead-letter record. */
export function readParkedState (message: { key: Buffer | null, value: Buffer | null, headers?: IHeaders }): ParkedState {
  const headers = message.headers ?? {}
  const topic = header(headers, H.sourceTopic)
  const partition = intHeader(headers, H.sourcePartition)
  const offset = header(headers, H.sourceOffset)
  if (topic === undefined || partition === undefined || offset === undefined || !/^\d+$/.test(offset)) {
    throw new ParkedRecordFormatError('record lacks whd-source-* headers')
  }
  return {
    ...readDeliveryState(headers),
    source: { topic, partition, offset: BigInt(offset) },
    record: { key: ownCopy(message.key), value: ownCopy(message.value), headers: originalHeaders(headers, true), timestamp: intHeader(headers, H.sourceTimestamp) ?? 0 }
  }
}

/** The delivery state in `whd-` headers; absent headers stay absent (attempts default to 0). */
export function readDeliveryState (headers: IHeaders): DeliveryState {
  return definedOnly({
    attempts: intHeader(headers, H.attempts) ?? 0,
    subscriptionId: header(headers, H.subscriptionId),
    firstFailureAt: intHeader(headers, H.firstFailureAt),
    lastFailureAt: intHeader(headers, H.lastFailureAt),
    lastStatus: intHeader(headers, H.lastStatus),
    lastError: header(headers, H.lastError),
    redrivenAt: intHeader(headers, H.redrivenAt)
  })
}

/** The object without its undefined fields: an absent header stays absent, not `undefined`. */
export function definedOnly<T extends object> (fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T
}

/** The dead-letter reason and time of a dead-letter record. */
export function readDeadLetterInfo (headers: IHeaders | undefined): { reason: string, deadLetteredAt: number } {
  return {
    reason: header(headers ?? {}, H.reason) ?? 'unknown',
    deadLetteredAt: intHeader(headers ?? {}, H.deadLetteredAt) ?? 0
  }
}
