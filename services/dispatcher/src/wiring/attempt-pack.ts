// The delivery thread hands attempt entries to the history writer thread as
// flat arrays, not objects: the structured clone of an object writes every
// property name again, and packed entries clone in about half the time
// (bench/history.md). Pure; the order of fields is the format.
import type { AttemptEntry } from '../engine/attempt-log.js'

export type PackedAttempt = [
  attemptId: string, eventId: string, eventType: string, tenantId: string, subscriptionId: string, accountId: string,
  occurredAt: number, sourceTopic: string, sourcePartition: number, sourceOffset: bigint, attemptNumber: number,
  lane: AttemptEntry['lane'], kind: AttemptEntry['kind'], outcome: AttemptEntry['outcome'], startedAt: number,
  durationMs: number | undefined, httpStatus: number | undefined, errorCode: string | undefined,
  nextAttemptAt: number | undefined, responseBodyPrefix: string | undefined
]

export function packAttempt (e: AttemptEntry): PackedAttempt {
  return [
    e.attemptId, e.eventId, e.eventType, e.tenantId, e.subscriptionId, e.accountId,
    e.occurredAt, e.sourceTopic, e.sourcePartition, e.sourceOffset, e.attemptNumber,
    e.lane, e.kind, e.outcome, e.startedAt,
    e.durationMs, e.httpStatus, e.errorCode, e.nextAttemptAt, e.responseBodyPrefix
  ]
}

export function unpackAttempt (p: PackedAttempt): AttemptEntry {
  const [
    attemptId, eventId, eventType, tenantId, subscriptionId, accountId,
    occurredAt, sourceTopic, sourcePartition, sourceOffset, attemptNumber,
    lane, kind, outcome, startedAt,
    durationMs, httpStatus, errorCode, nextAttemptAt, responseBodyPrefix
  ] = p
  const entry: AttemptEntry = { attemptId, eventId, eventType, tenantId, subscriptionId, accountId, occurredAt, sourceTopic, sourcePartition, sourceOffset, attemptNumber, lane, kind, outcome, startedAt }
  if (durationMs !== undefined) entry.durationMs = durationMs
  if (httpStatus !== undefined) entry.httpStatus = httpStatus
  if (errorCode !== undefined) entry.errorCode = errorCode
  if (nextAttemptAt !== undefined) entry.nextAttemptAt = nextAttemptAt
  if (responseBodyPrefix !== undefined) entry.responseBodyPrefix = responseBodyPrefix
  return entry
}
