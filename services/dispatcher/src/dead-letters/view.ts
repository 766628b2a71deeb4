// Dead letters as the admin API sees them: the view of one dead-letter record
// (engine/parked-record.ts format) and the seam the API reads and redrives
// them through, implemented on Kafka by redrive/kafka-dead-letters.ts. Pure.
import type { IHeaders } from 'kafkajs'
import type { DeliveryState } from '../engine/delivery-task.js'
import { H, readDeliveryState } from '../engine/parked-record.js'
import { summarizeDeadLetter, type DeadLetterSummary, type RedriveFilter } from './filter.js'
import { deadLetterId, readLineage, type DeadLetterState, type LetterLifecycle } from './lifecycle.js'
import type { DeadLetterPosition, Page, PageRequest } from './page.js'

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
  /** `topic:partition:offset`: names the letter in the state topic. */
  id: string
  /** Where it stands in its lifecycle (dead-letters/lifecycle.ts). */
  state: DeadLetterState
  /** Since when, epoch ms (absent while `dead`). */
  stateAt?: number
  /** The last redrive of it, when it was redriven. */
  redriveId?: string
  redrivenAt?: number
  redrivenBy?: string
  redrives?: number
  /** A letter written when a redriven delivery failed again: the letter it was redriven from. */
  redriveOf?: string
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
  redriveId?: string
}

/** How a redrive runs, besides its filter. */
export interface RedriveRequest {
  dryRun: boolean
  /** Redrive letters redriven before as well. */
  again: boolean
  /** Recorded as who redrove: `admin-api:<token id>`. */
  by: string
}

/**
 * Dead-letter operations. The API always passes a filter already narrowed to
 * the caller's scope: for a tenant token `subscriptionIds` is a non-empty
 * list of that tenant's subscriptions (an empty list would match every
 * letter, so the API never passes one).
 */
export interface DeadLetterOperations {
  /** One page of the dead letters matching `filter`, by (partition, offset), with counts over all of them. */
  list: (filter: RedriveFilter, page: PageRequest) => Promise<Page<DeadLetter>>
  /**
   * Moves the matching dead letters back into the retry lane (`redrive()` in
   * `redrive/run.ts`). Rejects with `WHD_ERR_REDRIVE_CONFLICT` while an
   * overlapping redrive runs.
   */
  redrive: (filter: RedriveFilter, request: RedriveRequest) => Promise<DeadLetterRedriveCounts>
}

export type { DeadLetterPosition, Page, PageRequest }


/** The listed fields of one dead letter at `topic`/`partition`/`offset`; never the payload. */
export function toDeadLetter (
  message: { key: Buffer | null, value: Buffer | null, headers?: IHeaders, offset: string },
  topic: string,
  partition: number,
  lifecycle?: LetterLifecycle
): DeadLetter {
  const { subscriptionId: _subscriptionId, attempts, ...delivery } = readDeliveryState(message.headers ?? {})
  const id = deadLetterId(topic, partition, message.offset)
  const letter: DeadLetter = { topic, partition, offset: message.offset, id, state: lifecycle?.state ?? 'dead', ...summarizeDeadLetter(message), ...delivery }
  // A dead letter without the header (an undecodable source record) shows no attempts.
  if (message.headers?.[H.attempts] !== undefined) letter.attempts = attempts
  if (lifecycle !== undefined) {
    letter.stateAt = lifecycle.at
    letter.redriveId = lifecycle.redriveId
    letter.redrivenAt = lifecycle.redrivenAt
    letter.redrivenBy = lifecycle.redrivenBy
    letter.redrives = lifecycle.redrives
  }
  const lineage = readLineage(message.headers)
  if (lineage !== undefined) letter.redriveOf = lineage.deadLetterId
  return letter
}
