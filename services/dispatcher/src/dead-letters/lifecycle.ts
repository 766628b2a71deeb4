// The lifecycle of a dead letter, kept on a compacted state topic
// (DEAD_LETTER_STATE_TOPIC, one per deployment like the retry topics):
//
//   dead ──redrive──▶ redriven ──retry lane──▶ delivered
//                                 └──────────▶ dead-again (a new dead letter, redriveOf = this one)
//                                 └──────────▶ dropped (its subscription was deleted)
//
// A letter without a state record is `dead`. The state record is keyed by the
// dead letter's id and the last one wins (compaction keeps it), so the topic
// holds one record per letter ever redriven. A redrive writes `redriven`
// before it writes the retry record, so the retry lane's later transition
// always lands after it. The record format and the decisions on it are pure;
// the Kafka side is redrive/lifecycle-topic.ts.
import type { IHeaders } from 'kafkajs'
import { H, header, intHeader } from '../engine/parked-record.js'
import type { RedriveFilter } from './filter.js'

/** Where a dead letter stands. */
export type DeadLetterState = 'dead' | 'redriven' | 'delivered' | 'dead-again' | 'dropped'

/** Every {@link DeadLetterState}, in lifecycle order. */
export const deadLetterStates: readonly DeadLetterState[] = Object.freeze(['dead', 'redriven', 'delivered', 'dead-again', 'dropped'])


/** The stable id of a dead letter: where it sits. Topic names cannot hold ':'. */
export function deadLetterId (topic: string, partition: number, offset: string | bigint): string {
  return `${topic}:${partition}:${offset.toString()}`
}

/** One redrive of one letter, as its state record keeps it. */
export interface RedriveStamp {
  redriveId: string
  /** Epoch ms. */
  redrivenAt: number
  redrivenBy: string
}

/** What the state topic says about one dead letter. */
export interface LetterLifecycle extends RedriveStamp {
  state: Exclude<DeadLetterState, 'dead'>
  /** When the letter entered this state, epoch ms. */
  at: number
  /** How many times it has been redriven. */
  redrives: number
  /** For `dead-again`: the new dead-letter reason. */
  reason?: string
}

/**
 * A running redrive, so that another one over an overlapping set (through
 * any instance, or the CLI) can be refused: written when it starts, again
 * every {@link LOCK_HEARTBEAT_MS}, deleted (a tombstone) when it ends.
 */
export interface RedriveLock extends RedriveStamp {
  filter: RedriveFilter
  heartbeatAt: number
}

/** How often a running redrive rewrites its lock. */
export const LOCK_HEARTBEAT_MS = 30_000
/** A lock not rewritten for this long belongs to a redrive that died. */
export const LOCK_EXPIRY_MS = 4 * LOCK_HEARTBEAT_MS

/** A record of the state topic, decoded. */
export type StateRecord =
  | { kind: 'letter', id: string, lifecycle: LetterLifecycle | undefined }
  | { kind: 'lock', redriveId: string, lock: RedriveLock | undefined }

const LOCK_PREFIX = 'redrive-lock:'

export function lockKey (redriveId: string): string {
  return `${LOCK_PREFIX}${redriveId}`
}

/** The state record's key and value; a value of null deletes (compaction). */
export function encodeLifecycle (id: string, lifecycle: LetterLifecycle): { key: Buffer, value: Buffer } {
  return { key: Buffer.from(id), value: Buffer.from(JSON.stringify({ v: 1, ...lifecycle })) }
}

export function encodeLock (lock: RedriveLock | undefined, redriveId: string): { key: Buffer, value: Buffer | null } {
  return { key: Buffer.from(lockKey(redriveId)), value: lock === undefined ? null : Buffer.from(JSON.stringify({ v: 1, ...lock })) }
}

/**
 * Reads a state record; undefined for one that is neither (written by
 * something else: ignored rather than trusted).
 */
export function decodeStateRecord (key: Buffer | null, value: Buffer | null): StateRecord | undefined {
  if (key === null) return undefined
  const text = key.toString('utf8')
  let body: Record<string, unknown> | undefined
  if (value !== null) {
    try {
      const parsed: unknown = JSON.parse(value.toString('utf8'))
      if (typeof parsed !== 'object' || parsed === null) return undefined
      body = parsed as Record<string, unknown>
    } catch {
      return undefined
    }
  }
  if (text.startsWith(LOCK_PREFIX)) {
    const redriveId = text.slice(LOCK_PREFIX.length)
    if (body === undefined) return { kind: 'lock', redriveId, lock: undefined }
    if (typeof body.heartbeatAt !== 'number' || typeof body.filter !== 'object' || body.filter === null) return undefined
    return { kind: 'lock', redriveId, lock: { ...stampOf(body, redriveId), filter: body.filter as RedriveFilter, heartbeatAt: body.heartbeatAt } }
  }
  if (body === undefined) return { kind: 'letter', id: text, lifecycle: undefined }
  const state = body.state
  if (typeof state !== 'string' || !deadLetterStates.includes(state as DeadLetterState) || state === 'dead') return undefined
  const lifecycle: LetterLifecycle = {
    ...stampOf(body, ''),
    state: state as LetterLifecycle['state'],
    at: typeof body.at === 'number' ? body.at : 0,
    redrives: typeof body.redrives === 'number' ? body.redrives : 1
  }
  if (typeof body.reason === 'string') lifecycle.reason = body.reason
  return { kind: 'letter', id: text, lifecycle }
}

function stampOf (body: Record<string, unknown>, fallbackId: string): RedriveStamp {
  return {
    redriveId: typeof body.redriveId === 'string' ? body.redriveId : fallbackId,
    redrivenAt: typeof body.redrivenAt === 'number' ? body.redrivenAt : 0,
    redrivenBy: typeof body.redrivenBy === 'string' ? body.redrivenBy : 'unknown'
  }
}

/** The state topic read to its end: the last word on each letter, and the redrives running. */
export interface LifecycleView {
  letters: ReadonlyMap<string, LetterLifecycle>
  /** Live locks in the order they were first written (the state topic's order). */
  locks: ReadonlyArray<{ redriveId: string, lock: RedriveLock }>
}

/** Folds state records, in topic order, into a {@link LifecycleView}. */
export function foldStateRecords (records: Iterable<StateRecord>): LifecycleView {
  const letters = new Map<string, LetterLifecycle>()
  // A Map keeps the order of first insertion, so a heartbeat does not move a
  // lock behind one written after it.
  const locks = new Map<string, RedriveLock>()
  for (const record of records) {
    if (record.kind === 'letter') {
      if (record.lifecycle === undefined) letters.delete(record.id)
      else letters.set(record.id, record.lifecycle)
    } else if (record.lock === undefined) {
      locks.delete(record.redriveId)
    } else {
      locks.set(record.redriveId, record.lock)
    }
  }
  return { letters, locks: [...locks].map(([redriveId, lock]) => ({ redriveId, lock })) }
}

/** A letter's state: `dead` unless the state topic says otherwise. */
export function stateOf (view: Pick<LifecycleView, 'letters'>, id: string): DeadLetterState {
  return view.letters.get(id)?.state ?? 'dead'
}

/** The `redriven` record a redrive writes for a letter, counting earlier redrives. */
export function redrivenLifecycle (previous: LetterLifecycle | undefined, stamp: RedriveStamp): LetterLifecycle {
  return { ...stamp, state: 'redriven', at: stamp.redrivenAt, redrives: (previous?.redrives ?? 0) + 1 }
}

/**
 * The lineage a retry record carries when it was redriven from a dead letter
 * (headers `whd-redrive-of`, `whd-redrive-id`, `whd-redriven-by`,
 * `whd-redriven-at`, `whd-redrives`). engine/parked-record.ts keeps these
 * headers when it copies a record's own, so they survive re-parking and
 * reach a dead letter written again (which then names its predecessor).
 */
export interface Lineage extends RedriveStamp {
  deadLetterId: string
  /** How many times the letter has been redriven, this one included. */
  redrives: number
}

/** The lineage headers of a redriven record. */
export function lineageHeaders (lineage: Lineage): Record<string, string> {
  return {
    [H.redriveOf]: lineage.deadLetterId,
    [H.redriveId]: lineage.redriveId,
    [H.redrivenBy]: lineage.redrivenBy,
    [H.redrivenAt]: String(lineage.redrivenAt),
    [H.redrives]: String(lineage.redrives)
  }
}

/** The lineage of a record, if it was redriven. */
export function readLineage (headers: IHeaders | undefined): Lineage | undefined {
  const h = headers ?? {}
  const deadLetter = header(h, H.redriveOf)
  if (deadLetter === undefined) return undefined
  return {
    deadLetterId: deadLetter,
    redriveId: header(h, H.redriveId) ?? 'unknown',
    redrivenBy: header(h, H.redrivenBy) ?? 'unknown',
    redrivenAt: intHeader(h, H.redrivenAt) ?? 0,
    redrives: intHeader(h, H.redrives) ?? 1
  }
}

/** What the retry lane did with a redriven record. */
export type RedriveOutcome = { kind: 'delivered' } | { kind: 'dropped' } | { kind: 'dead-again', reason: string }

/** The state record of a redriven letter once the retry lane settled its record. */
export function settledLifecycle (lineage: Lineage, outcome: RedriveOutcome, now: number): LetterLifecycle {
  const lifecycle: LetterLifecycle = {
    redriveId: lineage.redriveId,
    redrivenAt: lineage.redrivenAt,
    redrivenBy: lineage.redrivenBy,
    state: outcome.kind,
    at: now,
    redrives: lineage.redrives
  }
  if (outcome.kind === 'dead-again') lifecycle.reason = outcome.reason
  return lifecycle
}

function disjointLists (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || a.length === 0 || b === undefined || b.length === 0) return false
  return !a.some((value) => b.includes(value))
}

/**
 * Whether two redrive filters can select a common letter. Conservative: they
 * are disjoint only when some criterion provably separates them (lists with
 * no common value, time ranges that do not meet).
 */
export function filtersOverlap (a: RedriveFilter, b: RedriveFilter): boolean {
  if (disjointLists(a.subscriptionIds, b.subscriptionIds)) return false
  if (disjointLists(a.accountIds, b.accountIds)) return false
  if (disjointLists(a.reasons, b.reasons)) return false
  if (disjointLists(a.sourceTopics, b.sourceTopics)) return false
  const start = Math.max(a.from ?? -Infinity, b.from ?? -Infinity)
  const end = Math.min(a.to ?? Infinity, b.to ?? Infinity)
  return start < end
}

/**
 * The running redrive that `mine` must give way to, if any: the first live
 * lock written before it (topic order decides, so of two redrives that start
 * at once through different instances exactly the later one gives way) whose
 * filter overlaps.
 */
export function conflictingRedrive (view: Pick<LifecycleView, 'locks'>, mine: string, now: number): { redriveId: string, lock: RedriveLock } | undefined {
  const own = view.locks.find((entry) => entry.redriveId === mine)
  if (own === undefined) return undefined
  for (const entry of view.locks) {
    if (entry.redriveId === mine) return undefined
    if (now - entry.lock.heartbeatAt > LOCK_EXPIRY_MS) continue
    if (filtersOverlap(entry.lock.filter, own.lock.filter)) return entry
  }
  return undefined
}

/**
 * How the state topic is created: compacted (the last state per letter is
 * what counts), never deleted by age (a letter redriven a year ago stays
 * redriven), tombstones of finished locks gone after a day.
 */
export const STATE_TOPIC_CONFIG: ReadonlyArray<{ name: string, value: string }> = Object.freeze([
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'retention.ms', value: '-1' },
  { name: 'delete.retention.ms', value: String(24 * 3600 * 1000) }
])
