// Replay jobs (DESIGN §11): what a job is, as its record on the compacted
// jobs topic holds it, and the pure rules about it — which requests are
// refused, which active jobs overlap, which events a job delivers, how far
// it is. No I/O here: replay/ reads and writes the topic and runs the jobs.
import { eventTypeMatches } from '../subscriptions/match.js'

export type ReplayState = 'running' | 'completed' | 'cancelled'

/**
 * One source partition of a job: the offsets of `since` (start) and of
 * `until` (end, exclusive), fixed when the job is made, and the checkpoint
 * (`next`): every offset below it has been scanned and each matching event
 * settled — delivered, or parked on the retry topic. Offsets as decimal text
 * (int64).
 */
export interface ReplayRange {
  topic: string
  partition: number
  start: string
  end: string
  next: string
}

export interface ReplayCounts {
  /** Records read in the range. */
  scanned: number
  /** Of those, events of the endpoint's tenant and filter (and, with onlyFailed, not delivered before). */
  matched: number
  delivered: number
  /** Failed their replay attempt and were parked on the retry lane (normal retry and dead-letter rules from there). */
  failed: number
}

export interface ReplayJob {
  id: string
  tenantId: string
  endpointId: string
  /** Epoch milliseconds: the range of record timestamps, until exclusive. */
  since: number
  until: number
  /** Only these types (exact or `prefix.*`), within the endpoint's own filter. */
  eventTypes?: string[]
  /** Only events whose delivery to the endpoint has not succeeded (from the history). */
  onlyFailed: boolean
  state: ReplayState
  /** Who asked: a tenant id, `operator`, or `cli`. */
  requestedBy: string
  createdAt: number
  updatedAt: number
  finishedAt?: number
  /** Why a job ended other than completed: `cancelled` (DELETE), `endpoint-disabled-or-deleted`. */
  reason?: string
  ranges: ReplayRange[]
  counts: ReplayCounts
}

/** A refusal of a replay request: a stable code, the field at fault, and what to say. */
export interface ReplayRefusal {
  code: 'WHD_ERR_REPLAY_RANGE' | 'WHD_ERR_REPLAY_RETENTION' | 'WHD_ERR_REPLAY_CONFLICT' | 'WHD_ERR_REPLAY_LIMIT'
  message: string
  field?: string
  /** WHD_ERR_REPLAY_RETENTION: the earliest time still on Kafka (epoch milliseconds). */
  earliestAvailable?: number
}

const iso = (ms: number): string => new Date(ms).toISOString()

/** `until` after `since`, not in the future, the range at most `maxRangeMs`. */
export function checkReplayRange (since: number, until: number, now: number, maxRangeMs: number): ReplayRefusal | undefined {
  if (until > now) return { code: 'WHD_ERR_REPLAY_RANGE', field: 'until', message: `until (${iso(until)}) is in the future: a replay covers only what has happened` }
  if (until <= since) return { code: 'WHD_ERR_REPLAY_RANGE', field: 'until', message: 'until must be later than since' }
  if (until - since > maxRangeMs) {
    return { code: 'WHD_ERR_REPLAY_RANGE', field: 'until', message: `the range is over the maximum of ${maxRangeMs / 3_600_000} hours (REPLAY_MAX_RANGE_HOURS): split it into several replays` }
  }
  return undefined
}

/** `since` before the oldest record still retained (undefined `earliest`: nothing was ever removed). */
export function checkRetention (since: number, earliest: number | undefined): ReplayRefusal | undefined {
  if (earliest === undefined || since >= earliest) return undefined
  return {
    code: 'WHD_ERR_REPLAY_RETENTION',
    field: 'since',
    earliestAvailable: earliest,
    message: `since (${iso(since)}) is before the oldest record Kafka still retains: the earliest time available is ${iso(earliest)}`
  }
}

/** An active job of the endpoint whose range meets [since, until): two would deliver the same events twice, in no common order. */
export function overlappingJob (jobs: Iterable<ReplayJob>, endpointId: string, since: number, until: number): ReplayJob | undefined {
  for (const job of jobs) {
    if (job.state === 'running' && job.endpointId === endpointId && job.since < until && since < job.until) return job
  }
  return undefined
}

/** The refusal of one more active job for the tenant, if it has `max` already. */
export function checkTenantLimit (jobs: Iterable<ReplayJob>, tenantId: string, max: number): ReplayRefusal | undefined {
  let active = 0
  for (const job of jobs) if (job.state === 'running' && job.tenantId === tenantId) active++
  if (active < max) return undefined
  return { code: 'WHD_ERR_REPLAY_LIMIT', message: `tenant ${tenantId} has ${active} active replays, the most allowed (REPLAY_MAX_JOBS_PER_TENANT): wait for one to finish or cancel it` }
}

/**
 * Whether the job delivers an event: its tenant's (C6), taken by the
 * endpoint's filter and by the job's own, and — with onlyFailed — not
 * delivered to the endpoint before (`delivered` holds those event ids).
 */
export function replayMatches (
  job: Pick<ReplayJob, 'tenantId' | 'eventTypes' | 'onlyFailed'>,
  endpointEventTypes: readonly string[],
  event: { tenantId: string, eventType: string, eventId: string },
  delivered: Pick<ReadonlySet<string>, 'has'>
): boolean {
  if (event.tenantId !== job.tenantId) return false
  if (!endpointEventTypes.some((f) => eventTypeMatches(f, event.eventType))) return false
  if (job.eventTypes !== undefined && !job.eventTypes.some((f) => eventTypeMatches(f, event.eventType))) return false
  return !(job.onlyFailed && delivered.has(event.eventId))
}

/** Whether every range has been scanned to its end. */
export const replayDone = (job: Pick<ReplayJob, 'ranges'>): boolean => job.ranges.every((r) => BigInt(r.next) >= BigInt(r.end))

/** Records in the job's ranges, and how many of them are behind its checkpoints. */
export function replayExtent (job: Pick<ReplayJob, 'ranges'>): { total: number, done: number } {
  let total = 0n
  let done = 0n
  for (const r of job.ranges) {
    const start = BigInt(r.start)
    const end = BigInt(r.end)
    total += end - start
    const next = BigInt(r.next)
    done += (next < end ? next : end) - start
  }
  return { total: Number(total), done: Number(done) }
}

/** The API's view of a job: progress and, while it runs, an ETA from its rate so far. */
export function replayView (job: ReplayJob, now: number): Record<string, unknown> {
  const { total, done } = replayExtent(job)
  const elapsed = Math.max(1, job.updatedAt - job.createdAt)
  const rate = done / elapsed
  const eta = job.state === 'running' && done > 0 && rate > 0 ? now + Math.ceil((total - done) / rate) : undefined
  return {
    id: job.id,
    endpointId: job.endpointId,
    tenantId: job.tenantId,
    state: job.state,
    since: iso(job.since),
    until: iso(job.until),
    ...(job.eventTypes === undefined ? {} : { eventTypes: job.eventTypes }),
    onlyFailed: job.onlyFailed,
    requestedBy: job.requestedBy,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    ...(job.finishedAt === undefined ? {} : { finishedAt: iso(job.finishedAt) }),
    ...(job.reason === undefined ? {} : { reason: job.reason }),
    progress: {
      records: total,
      ...job.counts,
      ...(eta === undefined ? {} : { eta: iso(eta) })
    }
  }
}

/** The job's record value (JSON: a few hundred bytes per partition). */
export const encodeReplayJob = (job: ReplayJob): Buffer => Buffer.from(JSON.stringify(job))

/** A job from its record value; undefined for a tombstone or a value that is not one. */
export function decodeReplayJob (value: Buffer | null): ReplayJob | undefined {
  if (value === null) return undefined
  try {
    const job = JSON.parse(value.toString('utf8')) as ReplayJob
    return typeof job.id === 'string' && Array.isArray(job.ranges) && typeof job.counts === 'object' ? job : undefined
  } catch {
    return undefined
  }
}

/** A replay as asked for, validated by the API (or the CLI). */
export interface ReplayRequest {
  tenantId: string
  endpointId: string
  since: number
  until: number
  eventTypes?: string[]
  onlyFailed: boolean
  requestedBy: string
}

/** The replay jobs, as the admin API and the CLI use them; replay/operations.ts implements it on Kafka. */
export interface ReplayOperations {
  /** Checks the request against retention, the active jobs and the limits; writes the job. */
  create: (request: ReplayRequest) => Promise<{ kind: 'created', job: ReplayJob } | { kind: 'refused', refusal: ReplayRefusal }>
  get: (id: string) => Promise<ReplayJob | undefined>
  /** The endpoint's jobs, newest first. */
  list: (endpointId: string) => Promise<ReplayJob[]>
  /** Marks the job cancelled (its runner stops at its next checkpoint); a finished job stays as it was. */
  cancel: (id: string) => Promise<ReplayJob | undefined>
}

/**
 * The job after one more of its records, in log order. A finished job stays
 * finished: a runner's checkpoint written just after a cancel (it had not
 * seen the cancel yet) updates the counts but cannot make it run again.
 */
export function foldReplayJob (current: ReplayJob | undefined, next: ReplayJob): ReplayJob {
  if (current === undefined || current.state === 'running' || next.state !== 'running') return next
  return { ...next, state: current.state, ...(current.reason === undefined ? {} : { reason: current.reason }), ...(current.finishedAt === undefined ? {} : { finishedAt: current.finishedAt }) }
}

/**
 * The active job of the same endpoint, made before `job`, whose range meets
 * its range: `job` must not run. The API's overlap check reads the jobs
 * topic without a lock, so two requests through two instances at once can
 * both be written; the one runner keeps the earlier.
 */
export function earlierOverlap (jobs: Iterable<ReplayJob>, job: ReplayJob): ReplayJob | undefined {
  const earlier = [...jobs].filter((j) => j.id !== job.id && (j.createdAt < job.createdAt || (j.createdAt === job.createdAt && j.id < job.id)))
  return overlappingJob(earlier, job.endpointId, job.since, job.until)
}

/** Finished jobs whose end is more than `keepMs` ago: their records are deleted from the jobs topic. */
export function expiredReplayJobs (jobs: Iterable<ReplayJob>, now: number, keepMs: number): ReplayJob[] {
  const expired: ReplayJob[] = []
  for (const job of jobs) {
    if (job.state !== 'running' && now - (job.finishedAt ?? job.updatedAt) > keepMs) expired.push(job)
  }
  return expired
}
