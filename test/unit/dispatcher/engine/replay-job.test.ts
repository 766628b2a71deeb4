import { describe, expect, it } from 'vitest'
import {
  checkReplayRange, checkRetention, earlierOverlap, checkTenantLimit, decodeReplayJob, encodeReplayJob, expiredReplayJobs, foldReplayJob, overlappingJob,
  replayDone, replayExtent, replayMatches, replayView, type ReplayJob
} from '../../../../services/dispatcher/src/engine/replay-job.js'

const H = 3_600_000
const NOW = Date.parse('2026-12-05T12:00:00Z')

function job (extra: Partial<ReplayJob> = {}): ReplayJob {
  return {
    id: 'rpl_1', tenantId: 't0', endpointId: 'ep-1', since: NOW - 2 * H, until: NOW - H, onlyFailed: false, state: 'running',
    requestedBy: 'operator', createdAt: NOW - 100_000, updatedAt: NOW - 100_000,
    ranges: [{ topic: 'src', partition: 0, start: '10', end: '20', next: '10' }, { topic: 'src', partition: 1, start: '0', end: '0', next: '0' }],
    counts: { scanned: 0, matched: 0, delivered: 0, failed: 0 },
    ...extra
  }
}

describe('replay rules', () => {
  it('refuses until in the future, not after since, or a range over the maximum, naming until', () => {
    expect(checkReplayRange(NOW - H, NOW, NOW, 2 * H)).toBeUndefined()
    expect(checkReplayRange(NOW - 2 * H, NOW, NOW, 2 * H)).toBeUndefined()
    expect(checkReplayRange(NOW - H, NOW + 1, NOW, 2 * H)).toMatchObject({ code: 'WHD_ERR_REPLAY_RANGE', field: 'until', message: expect.stringContaining('future') })
    expect(checkReplayRange(NOW - H, NOW - H, NOW, 2 * H)).toMatchObject({ code: 'WHD_ERR_REPLAY_RANGE', field: 'until' })
    expect(checkReplayRange(NOW - H, NOW - 2 * H, NOW, 2 * H)).toMatchObject({ code: 'WHD_ERR_REPLAY_RANGE', field: 'until' })
    expect(checkReplayRange(NOW - 2 * H - 1, NOW, NOW, 2 * H)).toMatchObject({ code: 'WHD_ERR_REPLAY_RANGE', field: 'until', message: expect.stringContaining('2 hours') })
  })

  it('refuses since before the oldest retained record, saying when that is', () => {
    expect(checkRetention(NOW, undefined)).toBeUndefined()
    expect(checkRetention(NOW, NOW)).toBeUndefined()
    expect(checkRetention(NOW - 1, NOW)).toEqual({
      code: 'WHD_ERR_REPLAY_RETENTION', field: 'since', earliestAvailable: NOW,
      message: expect.stringContaining('the earliest time available is 2026-12-05T12:00:00.000Z') as unknown as string
    })
  })

  it('finds an active job of the same endpoint whose range meets the new one; finished ones and other endpoints never', () => {
    const jobs = [job({ id: 'a', since: 100, until: 200 }), job({ id: 'b', endpointId: 'ep-2', since: 0, until: 1000 }), job({ id: 'c', since: 300, until: 400, state: 'completed' })]
    expect(overlappingJob(jobs, 'ep-1', 150, 160)?.id).toBe('a')
    expect(overlappingJob(jobs, 'ep-1', 199, 250)?.id).toBe('a')
    expect(overlappingJob(jobs, 'ep-1', 50, 101)?.id).toBe('a')
    // Half-open ranges: touching is not overlapping.
    expect(overlappingJob(jobs, 'ep-1', 200, 300)).toBeUndefined()
    expect(overlappingJob(jobs, 'ep-1', 0, 100)).toBeUndefined()
    expect(overlappingJob(jobs, 'ep-1', 300, 400)).toBeUndefined()
  })

  it('names the earlier of two overlapping active jobs of an endpoint, so the later one does not run', () => {
    const first = job({ id: 'rpl_a', createdAt: 1, since: 100, until: 200 })
    const second = job({ id: 'rpl_b', createdAt: 2, since: 150, until: 250 })
    const twin = job({ id: 'rpl_c', createdAt: 2, since: 150, until: 250 })
    expect(earlierOverlap([first, second], second)?.id).toBe('rpl_a')
    expect(earlierOverlap([first, second], first)).toBeUndefined()
    // Made in the same millisecond: the smaller id is the earlier.
    expect(earlierOverlap([second, twin], twin)?.id).toBe('rpl_b')
    expect(earlierOverlap([second, twin], second)).toBeUndefined()
    expect(earlierOverlap([{ ...first, state: 'completed' }, second], second)).toBeUndefined()
    expect(earlierOverlap([{ ...first, endpointId: 'ep-2' }, second], second)).toBeUndefined()
  })

  it('counts only a tenant\'s active jobs against its limit', () => {
    const jobs = [job({ id: 'a' }), job({ id: 'b', state: 'cancelled' }), job({ id: 'c', tenantId: 't1' })]
    expect(checkTenantLimit(jobs, 't0', 2)).toBeUndefined()
    expect(checkTenantLimit(jobs, 't0', 1)).toMatchObject({ code: 'WHD_ERR_REPLAY_LIMIT' })
    expect(checkTenantLimit(jobs, 't1', 1)).toMatchObject({ code: 'WHD_ERR_REPLAY_LIMIT' })
    expect(checkTenantLimit(jobs, 't2', 1)).toBeUndefined()
  })

  it('matches the tenant\'s events its endpoint and the job take; onlyFailed leaves out the delivered', () => {
    const event = { tenantId: 't0', eventType: 'transaction.posted', eventId: 'e1' }
    const none = new Set<string>()
    expect(replayMatches(job(), ['*'], event, none)).toBe(true)
    expect(replayMatches(job(), ['*'], { ...event, tenantId: 't1' }, none)).toBe(false)
    expect(replayMatches(job(), ['account.*'], event, none)).toBe(false)
    expect(replayMatches(job({ eventTypes: ['transaction.*'] }), ['*'], event, none)).toBe(true)
    expect(replayMatches(job({ eventTypes: ['fraud.alert'] }), ['*'], event, none)).toBe(false)
    expect(replayMatches(job({ onlyFailed: true }), ['*'], event, new Set(['e1']))).toBe(false)
    expect(replayMatches(job({ onlyFailed: true }), ['*'], event, new Set(['e2']))).toBe(true)
    expect(replayMatches(job(), ['*'], event, new Set(['e1']))).toBe(true)
  })

  it('measures progress over every range, and is done when each checkpoint reached its end', () => {
    const j = job()
    expect(replayExtent(j)).toEqual({ total: 10, done: 0 })
    expect(replayDone(j)).toBe(false)
    const half = job({ ranges: [{ ...j.ranges[0] as ReplayJob['ranges'][0], next: '15' }, j.ranges[1] as ReplayJob['ranges'][0]] })
    expect(replayExtent(half)).toEqual({ total: 10, done: 5 })
    // Half done in 100 s: 100 s to go.
    const view = replayView({ ...half, updatedAt: half.createdAt + 100_000 }, NOW)
    expect(view.progress).toMatchObject({ records: 10, eta: new Date(NOW + 100_000).toISOString() })
    expect(replayDone(job({ ranges: [{ topic: 'src', partition: 0, start: '10', end: '20', next: '20' }] }))).toBe(true)
    expect(replayView(job({ state: 'completed' }), NOW).progress).not.toHaveProperty('eta')
  })

  it('keeps a finished job finished when a late checkpoint of its runner follows the cancel', () => {
    const cancelled = job({ state: 'cancelled', reason: 'cancelled', finishedAt: NOW })
    const late = job({ counts: { scanned: 9, matched: 3, delivered: 3, failed: 0 } })
    expect(foldReplayJob(cancelled, late)).toEqual({ ...late, state: 'cancelled', reason: 'cancelled', finishedAt: NOW })
    expect(foldReplayJob(job(), cancelled)).toEqual(cancelled)
    expect(foldReplayJob(undefined, late)).toEqual(late)
  })

  it('round-trips a job through its record value, and reads a tombstone or garbage as none', () => {
    expect(decodeReplayJob(encodeReplayJob(job()))).toEqual(job())
    expect(decodeReplayJob(null)).toBeUndefined()
    expect(decodeReplayJob(Buffer.from('{"x":1}'))).toBeUndefined()
    expect(decodeReplayJob(Buffer.from('not json'))).toBeUndefined()
  })
})

describe('expiredReplayJobs', () => {
  const day = 86_400_000
  const now = 100 * day
  const finished = (id: string, state: ReplayJob['state'], finishedAt: number | undefined, updatedAt = finishedAt ?? now): ReplayJob =>
    job({ id, state, updatedAt, ...(finishedAt === undefined ? {} : { finishedAt }) })

  it('names finished jobs that ended more than the keep time ago, never a running one', () => {
    const jobs = [
      finished('old-completed', 'completed', now - 31 * day),
      finished('old-cancelled', 'cancelled', now - 40 * day),
      finished('recent', 'completed', now - 29 * day),
      finished('running', 'running', undefined, now - 90 * day),
      // A finished record without finishedAt: its last update counts.
      finished('no-finish-time', 'completed', undefined, now - 31 * day)
    ]
    expect(expiredReplayJobs(jobs, now, 30 * day).map((j) => j.id)).toEqual(['old-completed', 'old-cancelled', 'no-finish-time'])
  })
})
