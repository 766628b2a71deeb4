import type { AttemptEntry, AttemptOutcome } from '../engine/attempt-log.js'

/** An entry as indexed: where its record sits on the attempts topic orders ties. */
export interface IndexedAttempt extends AttemptEntry {
  logPartition: number
  logOffset: bigint
}

export const statusClasses = ['2xx', '3xx', '4xx', '5xx', 'none'] as const
export type StatusClass = (typeof statusClasses)[number]

/** Filters of `GET /v1/endpoints/{id}/attempts`, validated. */
export interface AttemptQuery {
  outcomes?: AttemptOutcome[]
  statusClass?: StatusClass
  eventType?: string
  accountId?: string
  /** Epoch milliseconds, inclusive. */
  from?: number
  /** Epoch milliseconds, exclusive. */
  to?: number
  limit: number
  /** Newest first: continue below this (started at, attempt id). */
  after?: AttemptCursor
}

export interface AttemptCursor {
  startedAt: number
  attemptId: string
}

export interface AttemptPage {
  items: IndexedAttempt[]
  /** Present when more items follow. */
  next?: AttemptCursor
}

/** Durations of the attempts in a window, as counts per latency bucket. */
export interface AttemptTotals {
  attempts: number
  delivered: number
  /** Bucket index ({@link latencyBucket}) → attempts. */
  buckets: Map<number, number>
}

/** Event ids to test membership in: a Set, or, from the SQLite reader thread, a SortedIds (sorted-ids.ts). */
export type EventIdSet = Pick<ReadonlySet<string>, 'has' | 'size'>

/**
 * The delivery-history index: what the indexer writes and the admin API
 * reads. Every read is scoped by tenant, so no query can return another
 * tenant's rows whatever id it is given.
 */
export interface HistoryStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Made when the store's schema was created: the indexer's consumer group is named after it, so a new store reads the whole topic. */
  storeId: () => Promise<string>
  /** Writes entries; one already there (the same record: attempt id and start time) is left alone. Resolves with how many were new. */
  insert: (entries: readonly IndexedAttempt[]) => Promise<number>
  /** Every record of the event, oldest first; empty when the tenant has no such event. Undefined tenant: any (operators). */
  eventRecords: (tenantId: string | undefined, eventId: string) => Promise<IndexedAttempt[]>
  attempts: (tenantId: string, subscriptionId: string, query: AttemptQuery) => Promise<AttemptPage>
  totals: (tenantId: string, subscriptionId: string, since: number) => Promise<AttemptTotals>
  /** Ids of the events delivered (a 2xx attempt, any lane) to the subscription by attempts started at or after `since`: what a replay with onlyFailed leaves out. */
  deliveredEventIds: (tenantId: string, subscriptionId: string, since: number) => Promise<EventIdSet>
  /** Deletes rows that started before `before`; resolves with how many. */
  prune: (before: number) => Promise<number>
  count: () => Promise<number>
  close: () => Promise<void>
}

// Latency buckets grow by 5 %: a percentile read from them is within 5 % of
// the exact one, and both stores answer it with one GROUP BY.
const BUCKET_GROWTH = Math.log(1.05)

/** The latency bucket of a duration in milliseconds. */
export function latencyBucket (durationMs: number): number {
  return durationMs <= 1 ? 0 : Math.ceil(Math.log(durationMs) / BUCKET_GROWTH)
}

/** The upper bound of a bucket in milliseconds. */
export function bucketUpperMs (bucket: number): number {
  return bucket === 0 ? 1 : Math.round(Math.exp(bucket * BUCKET_GROWTH))
}

/** The `q` quantile (0–1) of bucketed durations: the upper bound of the bucket it falls in; undefined without data. */
export function quantileOf (buckets: ReadonlyMap<number, number>, q: number): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0])
  const total = sorted.reduce((sum, [, n]) => sum + n, 0)
  if (total === 0) return undefined
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const [bucket, n] of sorted) {
    seen += n
    if (seen >= rank) return bucketUpperMs(bucket)
  }
  return undefined
}

/** The opaque cursor text of a position. */
export function encodeCursor (cursor: AttemptCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.attemptId])).toString('base64url')
}

/** The position a cursor text names, or undefined when it is not one of ours. */
export function decodeCursor (text: string): AttemptCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    if (!Array.isArray(value) || value.length !== 2) return undefined
    const [startedAt, attemptId] = value as unknown[]
    if (typeof startedAt !== 'number' || !Number.isSafeInteger(startedAt) || typeof attemptId !== 'string' || attemptId.length > 64) return undefined
    return { startedAt, attemptId }
  } catch {
    return undefined
  }
}
