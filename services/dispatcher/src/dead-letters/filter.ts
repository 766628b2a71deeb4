import type { IHeaders } from 'kafkajs'
import { definedOnly, H, header as text, intHeader as integer } from '../engine/parked-record.js'

/**
 * Which dead letters to redrive. Every criterion that is set must hold (AND);
 * a list matches any of its values (OR). An empty filter matches every dead
 * letter.
 */
export interface RedriveFilter {
  /** `whd-subscription-id` is one of these. */
  subscriptionIds?: readonly string[]
  /** The record key (the account id) is one of these. */
  accountIds?: readonly string[]
  /** Dead-lettered at or after this instant (epoch ms, inclusive). */
  from?: number
  /** Dead-lettered before this instant (epoch ms, exclusive), so ranges tile. */
  to?: number
  /** `whd-dead-letter-reason` is one of these, e.g. `retries-exhausted`. */
  reasons?: readonly string[]
  /** `whd-source-topic` is one of these. */
  sourceTopics?: readonly string[]
}

/** A dead-letter record as kafkajs hands it over. */
export interface DeadLetterMessage {
  key: Buffer | null
  value: Buffer | null
  headers?: IHeaders
}

/**
 * What a dead letter says about itself, read leniently: a field is absent
 * when its header is missing or malformed, so a filter can still judge
 * records that cannot be redriven.
 */
export interface DeadLetterSummary {
  subscriptionId?: string
  /** The record key as UTF-8; source records are keyed by account id. */
  accountId?: string
  reason?: string
  deadLetteredAt?: number
  sourceTopic?: string
  sourcePartition?: number
  sourceOffset?: string
}

/** Reads the `whd-` headers a filter looks at. */
export function summarizeDeadLetter (message: DeadLetterMessage): DeadLetterSummary {
  const headers = message.headers ?? {}
  return definedOnly({
    subscriptionId: text(headers, H.subscriptionId),
    accountId: message.key !== null && message.key.length > 0 ? message.key.toString('utf8') : undefined,
    reason: text(headers, H.reason),
    deadLetteredAt: integer(headers, H.deadLetteredAt),
    sourceTopic: text(headers, H.sourceTopic),
    sourcePartition: integer(headers, H.sourcePartition),
    sourceOffset: text(headers, H.sourceOffset)
  })
}

function oneOf (values: readonly string[] | undefined, actual: string | undefined): boolean {
  if (values === undefined || values.length === 0) return true
  return actual !== undefined && values.includes(actual)
}

/**
 * Whether a dead letter is selected. A criterion on a field the letter does
 * not carry never holds: a letter without a dead-letter time is outside any
 * time range, one without a key belongs to no account.
 */
export function matchesFilter (letter: DeadLetterSummary, filter: RedriveFilter): boolean {
  if (!oneOf(filter.subscriptionIds, letter.subscriptionId)) return false
  if (!oneOf(filter.accountIds, letter.accountId)) return false
  if (!oneOf(filter.reasons, letter.reason)) return false
  if (!oneOf(filter.sourceTopics, letter.sourceTopic)) return false
  if (filter.from !== undefined || filter.to !== undefined) {
    const at = letter.deadLetteredAt
    if (at === undefined) return false
    if (filter.from !== undefined && at < filter.from) return false
    if (filter.to !== undefined && at >= filter.to) return false
  }
  return true
}
