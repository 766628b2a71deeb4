import type { AttemptResult } from '../delivery/types.js'
import type { DeliveryTask } from './delivery-task.js'

/** Where an attempt ran (schemas/delivery-attempt.avsc `AttemptLane`). */
export type AttemptLane = 'source' | 'retry' | 'redrive' | 'replay' | 'manual' | 'test'

/** What a history record says happened (schemas/delivery-attempt.avsc `AttemptOutcome`). */
export type AttemptOutcome = 'delivered' | 'failed' | 'parked' | 'held' | 'dead_lettered' | 'dropped'

/**
 * One record of the delivery history: an HTTP attempt (`kind: 'attempt'`)
 * or what became of a delivery without one (`kind: 'outcome'`). Built from
 * the task by the engine; written to the attempts topic by the Kafka adapter.
 */
export interface AttemptEntry {
  attemptId: string
  eventId: string
  eventType: string
  tenantId: string
  subscriptionId: string
  accountId: string
  occurredAt: number
  sourceTopic: string
  sourcePartition: number
  sourceOffset: bigint
  attemptNumber: number
  lane: AttemptLane
  kind: 'attempt' | 'outcome'
  outcome: AttemptOutcome
  /** Epoch milliseconds. */
  startedAt: number
  durationMs?: number
  httpStatus?: number
  errorCode?: string
  nextAttemptAt?: number
  responseBodyPrefix?: string
}

/**
 * Where the engine reports history. `record` only queues: it never blocks
 * or throws. The adapter makes what was recorded durable before it commits
 * the offsets that settle those deliveries (DESIGN §10).
 */
export interface AttemptRecorder {
  record: (entry: AttemptEntry) => void
}

/** Records nothing: history off, and unit tests that do not look at it. */
export const noAttemptRecorder: AttemptRecorder = { record: () => {} }

/**
 * The lane of a task: a task read from a retry topic carries its retry
 * offset; one that a redrive put back there carries the redrive header.
 */
export function laneOf (task: DeliveryTask): AttemptLane {
  if (!('retryOffset' in task)) return 'source'
  return task.redrivenAt === undefined ? 'retry' : 'redrive'
}

/** The fields every history record of `task` shares. */
export function entryBase (task: DeliveryTask, attemptId: string): Omit<AttemptEntry, 'kind' | 'outcome' | 'startedAt' | 'lane'> {
  return {
    attemptId,
    eventId: task.webhookId,
    eventType: task.eventType,
    tenantId: task.tenantId,
    subscriptionId: task.subscriptionId,
    accountId: task.accountId,
    occurredAt: task.occurredAt,
    sourceTopic: task.source.topic,
    sourcePartition: task.source.partition,
    sourceOffset: task.source.offset,
    attemptNumber: task.attempts
  }
}

/** What a history record says of the answer: the HTTP status (and the start of the body, when kept), or the error code. */
export function resultFields (result: AttemptResult): Pick<AttemptEntry, 'httpStatus' | 'responseBodyPrefix' | 'errorCode'> {
  if (result.kind === 'error') return { errorCode: result.code }
  return result.bodyPrefix === undefined ? { httpStatus: result.status } : { httpStatus: result.status, responseBodyPrefix: result.bodyPrefix }
}
