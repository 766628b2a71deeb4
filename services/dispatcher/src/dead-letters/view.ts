// Dead letters as the admin API sees them: the view of one dead-letter record
// (engine/parked-record.ts format) and the seam the API reads and redrives
// them through, implemented on Kafka by redrive/kafka-dead-letters.ts. Pure.
import type { IHeaders } from 'kafkajs'
import type { DeliveryState } from '../engine/delivery-task.js'
import { H, readDeliveryState } from '../engine/parked-record.js'
import { summarizeDeadLetter, type DeadLetterSummary, type RedriveFilter } from './filter.js'

/**
 * One dead letter as the admin API lists it: where it sits, what it says
 * about itself ({@link DeadLetterSummary}) and the failed delivery's state;
 * metadata only, never the payload. `lastError` is written by the
 * dispatcher's classifier, never a response body.
 */
export interface DeadLetter extends DeadLetterSummary, Omit<DeliveryState, 'attempts' | 'subscriptionId'> {
  /** Where the dead letter itself sits. */
  topic: string
  partition: number
  offset: string
  attempts?: number
}

/** Counts of a redrive (a subset of `RedriveResult` from `redrive/run.ts`). */
export interface DeadLetterRedriveCounts {
  scanned: number
  matched: number
  redriven: number
  skipped: number
  /** False when the scan stopped early. */
  complete?: boolean
  skippedByReason?: Partial<Record<string, number>>
}

/**
 * Dead-letter operations. The API always passes a filter already narrowed to
 * the caller's scope: for a tenant token `subscriptionIds` is a non-empty
 * list of that tenant's subscriptions (an empty list would match every
 * letter, so the API never passes one).
 */
export interface DeadLetterOperations {
  /** Up to `limit` dead letters matching `filter`, oldest first. */
  list: (filter: RedriveFilter, limit: number) => Promise<readonly DeadLetter[]>
  /** Moves the matching dead letters back into the retry lane (`redrive()` in `redrive/run.ts`). */
  redrive: (filter: RedriveFilter, dryRun: boolean) => Promise<DeadLetterRedriveCounts>
}


/** The listed fields of one dead letter at `topic`/`partition`/`offset`; never the payload. */
export function toDeadLetter (
  message: { key: Buffer | null, value: Buffer | null, headers?: IHeaders, offset: string },
  topic: string,
  partition: number
): DeadLetter {
  const { subscriptionId: _subscriptionId, attempts, ...delivery } = readDeliveryState(message.headers ?? {})
  const letter: DeadLetter = { topic, partition, offset: message.offset, ...summarizeDeadLetter(message), ...delivery }
  // A dead letter without the header (an undecodable source record) shows no attempts.
  if (message.headers?.[H.attempts] !== undefined) letter.attempts = attempts
  return letter
}
