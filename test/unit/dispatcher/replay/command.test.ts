import { describe, expect, it } from 'vitest'
import { formatReplayProgress, parseReplayCommand } from '../../../../services/dispatcher/src/replay/command.js'

const env = { KAFKA_BROKERS: '127.0.0.1:9092', SOURCE_TOPICS: 'src', KAFKA_GROUP_ID: 'blue' }
const field = (argv: string[], e: Record<string, string> = env): string | undefined => {
  try {
    parseReplayCommand(argv, e)
    return undefined
  } catch (err) {
    return (err as { variable?: string }).variable
  }
}

describe('replay command line', () => {
  it('reads a start with its range, types and options; the jobs topic per deployment', () => {
    expect(parseReplayCommand(['start', '--endpoint', 'ep', '--tenant', 't', '--since', '2026-12-01', '--until', '1764633600000', '--types', 'a.*, b', '--only-failed', '--no-follow'], env)).toMatchObject({
      action: 'start', endpointId: 'ep', tenantId: 't', since: Date.parse('2026-12-01T00:00:00Z'), until: 1764633600000, eventTypes: ['a.*', 'b'], onlyFailed: true, follow: false,
      jobsTopic: 'webhooks.replays.blue', sourceTopics: ['src'], maxRangeMs: 168 * 3_600_000, maxJobsPerTenant: 2
    })
    expect(parseReplayCommand(['status', 'rpl_x', '--follow'], env)).toMatchObject({ action: 'status', id: 'rpl_x', follow: true })
    expect(parseReplayCommand(['list', '--endpoint', 'ep'], { ...env, REPLAY_TOPIC: 'jobs' })).toMatchObject({ action: 'list', jobsTopic: 'jobs' })
    expect(parseReplayCommand([], env)).toEqual({ action: 'help' })
    expect(parseReplayCommand(['start', '-h'], env)).toEqual({ action: 'help' })
  })

  it('names the flag or variable at fault', () => {
    expect(field(['start', '--tenant', 't', '--since', '2026-12-01', '--until', '2026-12-02'])).toBe('--endpoint')
    expect(field(['start', '--endpoint', 'e', '--since', '2026-12-01', '--until', '2026-12-02'])).toBe('--tenant')
    expect(field(['start', '--endpoint', 'e', '--tenant', 't', '--since', 'yesterday', '--until', '2026-12-02'])).toBe('--since')
    expect(field(['start', '--endpoint', 'e', '--tenant', 't', '--since', '2026-12-01', '--until', '2026-12-02', '--types', ' , '])).toBe('--types')
    expect(field(['status'])).toBe('RPL_ID')
    expect(field(['resume', 'x'])).toBe('arguments')
    expect(field(['list', '--bogus'])).toBe('--bogus')
    expect(field(['list', '--endpoint', 'e'], { SOURCE_TOPICS: 'src' })).toBe('KAFKA_BROKERS')
  })

  it('writes the progress line: scanned of the range, matched, delivered, failed, ETA', () => {
    expect(formatReplayProgress({ id: 'rpl_1', state: 'running', progress: { records: 400, scanned: 100, matched: 50, delivered: 40, failed: 2, eta: '2026-12-05T12:00:00.000Z' } }))
      .toBe('replay rpl_1: running  scanned 100/400 (25%)  matched 50  delivered 40  failed 2  eta 2026-12-05T12:00:00.000Z')
    expect(formatReplayProgress({ id: 'rpl_1', state: 'cancelled', reason: 'cancelled', progress: { records: 0, scanned: 0, matched: 0, delivered: 0, failed: 0 } }))
      .toBe('replay rpl_1: cancelled (cancelled)  scanned 0/0 (100%)  matched 0  delivered 0  failed 0')
  })
})
