import type { IHeaders } from 'kafkajs'
import { toDeadLetterRecord, type OutgoingRecord, type ParkedState } from '../../../../services/dispatcher/src/engine/parked-record.js'
import type { DeadLetterMessage } from '../../../../services/dispatcher/src/dead-letters/filter.js'

/** 2024-06-10T08:30:00Z */
export const T = Date.UTC(2024, 5, 10, 8, 30)

/** A produced record as a consumer reads it back: header values arrive as Buffers. */
export function consumed (record: OutgoingRecord): DeadLetterMessage {
  const headers: IHeaders = {}
  for (const [name, value] of Object.entries(record.headers)) headers[name] = Buffer.isBuffer(value) ? value : Buffer.from(value)
  return { key: record.key, value: record.value, headers }
}

export interface LetterSpec {
  subscriptionId?: string
  account?: string | null
  reason?: string
  deadLetteredAt?: number
  topic?: string
  partition?: number
  offset?: bigint
  attempts?: number
  firstFailureAt?: number
  lastStatus?: number
  lastError?: string
  value?: Buffer | null
  headers?: Record<string, string | Buffer>
  timestamp?: number
}

/** A dead letter exactly as the dispatcher writes one (toDeadLetterRecord), read back. */
export function deadLetter (spec: LetterSpec = {}): DeadLetterMessage {
  const account = spec.account === undefined ? 'acc-000001' : spec.account
  const state: ParkedState = {
    source: { topic: spec.topic ?? 'banking.transactions.v1', partition: spec.partition ?? 3, offset: spec.offset ?? 42n },
    record: {
      key: account === null ? null : Buffer.from(account),
      value: spec.value === undefined ? Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]) : spec.value,
      headers: spec.headers ?? { traceparent: Buffer.from('00-abc-def-01') },
      timestamp: spec.timestamp ?? T - 60_000
    },
    attempts: spec.attempts ?? 7
  }
  if (!('subscriptionId' in spec)) state.subscriptionId = 'sub-a'
  else if (spec.subscriptionId !== undefined) state.subscriptionId = spec.subscriptionId
  state.firstFailureAt = spec.firstFailureAt ?? T - 3_600_000
  state.lastStatus = spec.lastStatus ?? 500
  state.lastError = spec.lastError ?? 'HTTP 500'
  return consumed(toDeadLetterRecord(state, spec.reason ?? 'retries-exhausted', spec.deadLetteredAt ?? T))
}

/** A dead letter of a source record that could not be decoded: no subscription, no delivery state. */
export function undecodableLetter (spec: { account?: string, reason?: string, deadLetteredAt?: number } = {}): DeadLetterMessage {
  const state: ParkedState = {
    source: { topic: 'banking.transactions.v1', partition: 1, offset: 9n },
    record: { key: Buffer.from(spec.account ?? 'acc-000001'), value: Buffer.from('not avro'), headers: {}, timestamp: T - 1000 },
    attempts: 0
  }
  return consumed(toDeadLetterRecord(state, spec.reason ?? 'bad-magic-byte', spec.deadLetteredAt ?? T))
}
