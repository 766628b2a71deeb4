import { H, readParkedState, type OutgoingRecord, type ParkedState } from '../engine/parked-record.js'
import { matchesFilter, summarizeDeadLetter, type DeadLetterMessage, type DeadLetterSummary, type RedriveFilter } from './filter.js'
import { deadLetterId, lineageHeaders, redrivenLifecycle, type LetterLifecycle, type Lineage, type RedriveStamp } from './lifecycle.js'

/** Why a selected dead letter cannot go back to the retry lane. */
export type RedriveSkipReason =
  /** No `whd-subscription-id`: the source record was never decoded, so there is no delivery to retry. */
  | 'no-subscription'
  /** The `whd-source-*` headers are missing or invalid: not written by a dispatcher. */
  | 'malformed'
  /** The source topic's retry topic does not exist. */
  | 'retry-topic-missing'
  /** The retry topic has no partition with the source partition's number. */
  | 'retry-partition-missing'
  /** Redriven before (its state is not `dead`); `again` redrives it anyway. */
  | 'already-redriven'

/** Every {@link RedriveSkipReason}, in a stable order for reports. */
export const redriveSkipReasons: readonly RedriveSkipReason[] = Object.freeze([
  'no-subscription',
  'malformed',
  'retry-topic-missing',
  'retry-partition-missing',
  'already-redriven'
])

/** Where a redriven record is produced. */
export interface RedriveTarget {
  topic: string
  partition: number
}

/** What to do with one dead letter. */
export type RedriveDecision =
  | { kind: 'unmatched', letter: DeadLetterSummary }
  | { kind: 'redrive', letter: DeadLetterSummary, target: RedriveTarget, record: OutgoingRecord, lifecycle?: { id: string, record: LetterLifecycle } }
  | { kind: 'skip', letter: DeadLetterSummary, reason: RedriveSkipReason, detail: string }

export interface RedrivePlanOptions {
  /** Suffix of each source topic's retry topic (`RETRY_TOPIC_SUFFIX`). */
  retryTopicSuffix: string
  /** Written to `whd-redriven-at` and `whd-parked-at`, epoch ms. */
  now: number
  /**
   * Partition counts of the retry topics that exist. When given, a target
   * outside it is skipped instead of produced; when absent, targets are not
   * checked.
   */
  retryPartitions?: ReadonlyMap<string, number>
  /**
   * The lifecycle (dead-letters/lifecycle.ts): what the state topic says
   * about each letter, whether letters redriven before go again, and this
   * redrive's stamp. Without it every selected letter is redriven and no
   * lineage is written (a redrive without a state topic).
   */
  lifecycle?: {
    letters: ReadonlyMap<string, LetterLifecycle>
    again: boolean
    stamp: RedriveStamp
  }
}

/** Where a dead letter sits: names it in the state topic. */
export interface DeadLetterAt {
  topic: string
  partition: number
  offset: string
}

/** `topic:partition`, as the dispatcher names lanes. */
export function targetLabel (target: RedriveTarget): string {
  return `${target.topic}:${target.partition}`
}

/**
 * Decides what becomes of one dead letter: not selected by `filter`,
 * redriven to the retry lane that owns its key, or skipped with a reason.
 *
 * The target is `<source topic><suffix>` at the source partition: retry
 * topics are co-partitioned with their source, and the retry lane of
 * partition p is the one that keeps the keys of source partition p in order
 * (DESIGN §4). Producing anywhere else would bypass that lane's blocked-key
 * bookkeeping.
 */
export function planRedrive (message: DeadLetterMessage, filter: RedriveFilter, options: RedrivePlanOptions, position?: DeadLetterAt): RedriveDecision {
  const letter = summarizeDeadLetter(message)
  if (!matchesFilter(letter, filter)) return { kind: 'unmatched', letter }
  const id = position === undefined ? undefined : deadLetterId(position.topic, position.partition, position.offset)
  const previous = id === undefined ? undefined : options.lifecycle?.letters.get(id)
  if (previous !== undefined && options.lifecycle?.again !== true) {
    return { kind: 'skip', letter, reason: 'already-redriven', detail: `${previous.state} since ${new Date(previous.at).toISOString()} (redrive ${previous.redriveId} by ${previous.redrivenBy}); --again / again: true redrives it anyway` }
  }

  let state: ParkedState
  try {
    state = readParkedState({ key: message.key, value: message.value, headers: message.headers ?? {} })
  } catch {
    return { kind: 'skip', letter, reason: 'malformed', detail: 'lacks valid whd-source-topic/partition/offset headers' }
  }
  if (state.source.partition < 0) {
    return { kind: 'skip', letter, reason: 'malformed', detail: `source partition ${state.source.partition} is invalid` }
  }
  const subscriptionId = state.subscriptionId
  if (subscriptionId === undefined || subscriptionId === '') {
    return { kind: 'skip', letter, reason: 'no-subscription', detail: 'the source record could not be decoded; there is no delivery to retry' }
  }

  const target: RedriveTarget = { topic: `${state.source.topic}${options.retryTopicSuffix}`, partition: state.source.partition }
  if (options.retryPartitions !== undefined) {
    const partitions = options.retryPartitions.get(target.topic)
    if (partitions === undefined) {
      return { kind: 'skip', letter, reason: 'retry-topic-missing', detail: `retry topic ${target.topic} does not exist` }
    }
    if (target.partition >= partitions) {
      return { kind: 'skip', letter, reason: 'retry-partition-missing', detail: `retry topic ${target.topic} has ${partitions} partitions, not ${target.partition + 1}` }
    }
  }
  const stamp = options.lifecycle?.stamp
  if (id === undefined || stamp === undefined) {
    return { kind: 'redrive', letter, target, record: toRedrivenRecord({ ...state, subscriptionId }, options.now) }
  }
  const lifecycle = redrivenLifecycle(previous, stamp)
  const lineage: Lineage = { ...stamp, deadLetterId: id, redrives: lifecycle.redrives }
  return { kind: 'redrive', letter, target, record: toRedrivenRecord({ ...state, subscriptionId }, options.now, lineage), lifecycle: { id, record: lifecycle } }
}

/**
 * The retry-topic record of a redriven dead letter: the source record's
 * bytes and headers, its subscription and source coordinates, and fresh
 * delivery state. Attempts 0 and no first-failure time make the retry lane
 * attempt it as soon as it is the head of its key, and start a new backoff
 * clock (a full retry budget) at its first failure; the last error and
 * status are dropped with the old budget. `whd-redriven-at` marks it; with a
 * lineage, the lineage headers name the letter and the redrive.
 */
export function toRedrivenRecord (state: ParkedState & { subscriptionId: string }, now: number, lineage?: Lineage): OutgoingRecord {
  const headers: Record<string, string | Buffer> = {}
  // readParkedState has already set the whd- headers apart but for the
  // lineage of an earlier redrive, which this redrive replaces.
  for (const [name, value] of Object.entries(state.record.headers)) {
    if (name.startsWith('whd-')) continue
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) headers[name] = first
  }
  return {
    key: state.record.key,
    value: state.record.value,
    headers: {
      ...headers,
      [H.subscriptionId]: state.subscriptionId,
      [H.sourceTopic]: state.source.topic,
      [H.sourcePartition]: String(state.source.partition),
      [H.sourceOffset]: state.source.offset.toString(),
      [H.sourceTimestamp]: String(state.record.timestamp),
      [H.attempts]: '0',
      [H.parkedAt]: String(now),
      [H.redrivenAt]: String(now),
      ...(lineage === undefined ? {} : lineageHeaders(lineage))
    }
  }
}
