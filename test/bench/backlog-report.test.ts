import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  backlogVerdicts, bestRate, heapPerParked, isolationRatio, loadBacklogConfig, parseProcStatus, phaseProblems, renderBacklogMarkdown,
  type BacklogResult, type IsolationPhase, type MemoryResult
} from './backlog-report.js'
import { inspectorUrlOf } from './inspector.js'
import { rateOf } from './stats.js'

const clean = { expected: 1000, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 0 }

function phase (perSecond: number, overrides: Partial<IsolationPhase> = {}): IsolationPhase {
  // rateOf over one second: `perSecond` items from t=0 to t=1000 ms.
  return { healthy: rateOf(perSecond, 0, 1000, true), completeness: [clean, clean, clean], badSignatures: 0, parkedAtEnd: undefined, exitCode: 0, ...overrides }
}

const MiB = 2 ** 20

function memory (overrides: Partial<MemoryResult> = {}): MemoryResult {
  return {
    events: 1_000_000,
    before: { heapUsed: 40 * MiB, rss: 100 * MiB },
    after: { heapUsed: 40 * MiB + 240_000 * 3000, rss: 900 * MiB },
    peakRss: 950 * MiB,
    heldInMemory: 240_000,
    onRetryTopic: 1_000_012,
    cap: 240_000,
    capPerPartition: 20_000,
    parkSeconds: 300,
    produceSeconds: 60,
    exitCode: 0,
    ...overrides
  }
}

function result (overrides: Partial<BacklogResult> = {}): BacklogResult {
  return {
    date: '2026-12-05T06:00:00.000Z',
    machine: 'test machine',
    loadAtStart: '0.5 / 0.4 / 0.3',
    loadAtEnd: '1.5 / 1.0 / 0.5',
    durationSeconds: 400,
    config: loadBacklogConfig({}),
    downMode: 'refusing connections',
    isolation: [{ withoutOutage: phase(3000), withOutage: phase(2000) }, { withoutOutage: phase(4000), withOutage: phase(3800) }],
    memory: memory(),
    ...overrides
  }
}

describe('backlog bench report', () => {
  it('renders the drain runs, and no drain section without them', () => {
    const run = { round: 1, events: 100_000, delivered: 100_000, seconds: 20, cpuMicrosPerDelivery: 250, missing: 0, orderViolations: 0, duplicates: 0 }
    const markdown = renderBacklogMarkdown(result({ drain: [{ ...run, withBytesPerPartition: 100_000, withoutBytes: 0 }, { ...run, withBytesPerPartition: 1000, withoutBytes: 86_000, seconds: 40 }] }))
    expect(markdown).toContain('## Draining a backlog once the endpoint is back')
    expect(markdown).toContain('| 1 | all | 0 | 20.0 s | 5,000 | 250 µs | 0 / 0 / 0 |')
    expect(markdown).toContain('| 1 | 1,000 | 86,000 | 40.0 s | 2,500 | 250 µs | 0 / 0 / 0 |')
    expect(renderBacklogMarkdown(result())).not.toContain('## Draining')
    expect(() => loadBacklogConfig({ BENCH_BACKLOG_ONLY: 'drain' })).not.toThrow()
  })

  it('states the memory limit the dispatcher ran under, its peak and OOM kills, or why there was none', () => {
    // The default is the Helm chart's limit, so the bench measures what a default deployment gets.
    const chartLimit = /^\s+limits:\n\s+memory: (\d+)Mi$/m.exec(readFileSync('deploy/helm/webhook-dispatcher/values.yaml', 'utf8'))?.[1]
    expect(loadBacklogConfig({}).memoryLimitMib).toBe(Number(chartLimit))
    const limited = renderBacklogMarkdown(result({ memory: memory({ limit: { limitMib: 1024, peakBytes: 960 * MiB, oomKills: 0 } }) }))
    expect(limited).toContain('| Memory limit (a cgroup, as a container\'s; BENCH_BACKLOG_MEMORY_LIMIT_MIB) | 1,024 MiB, the main thread\'s heap at --max-old-space-size=384 as the Helm chart sets it for that limit: peak use 960 MiB')
    expect(limited).toContain('0 OOM kills')
    const none = renderBacklogMarkdown(result({ memory: memory({ limit: { limitMib: 1024, unavailable: 'not Linux' } }) }))
    expect(none).toContain('1,024 MiB asked for, none set: not Linux')
  })

  it('takes each phase\'s fastest valid round for the isolation ratio', () => {
    const rounds = result().isolation
    expect(bestRate(rounds.map((r) => r.withoutOutage))).toBe(4000)
    expect(isolationRatio(rounds)).toBeCloseTo(0.95)
  })

  it('leaves out a phase that lost, reordered or misdelivered anything', () => {
    const broken = phase(9000, { completeness: [clean, { ...clean, orderViolations: 2 }, clean] })
    expect(phaseProblems(broken)).toEqual(['healthy endpoint 2: 2 accounts out of order'])
    expect(phaseProblems(phase(1, { healthy: rateOf(10, 0, 1000, false) }))).toEqual(['healthy endpoints not drained within the budget'])
    expect(phaseProblems(phase(1, { exitCode: 1, badSignatures: 3 }))).toEqual(['3 bad signatures', 'unclean shutdown (exit code 1)'])
    expect(isolationRatio([{ withoutOutage: phase(4000), withOutage: broken }, { withoutOutage: phase(4000), withOutage: phase(3000) }])).toBeCloseTo(0.75)
    // No valid round of a phase: no ratio, and no verdict either way.
    const none = result({ isolation: [{ withoutOutage: phase(4000), withOutage: broken }] })
    expect(isolationRatio(none.isolation)).toBeNaN()
    expect(backlogVerdicts(none)[0]?.met).toBeUndefined()
  })

  it('divides the heap grown by the deliveries held in memory, not by those parked', () => {
    expect(heapPerParked(memory())).toBe(3000)
    expect(heapPerParked(memory({ heldInMemory: 0 }))).toBeNaN()
  })

  it('judges the memory targets, the RSS one only at the target\'s size', () => {
    const [isolation, heap, rss] = backlogVerdicts(result())
    expect(isolation?.met).toBe(true)
    expect(heap).toMatchObject({ measured: '3,000 B (240,000 held)', met: false })
    expect(rss).toMatchObject({ measured: '900 MiB with 1,000,000 parked', met: false })
    const small = backlogVerdicts(result({ memory: memory({ events: 50_000, after: { heapUsed: 40 * MiB + 100 * 240_000, rss: 200 * MiB } }) }))
    expect(small[1]?.met).toBe(true)
    expect(small[2]).toMatchObject({ measured: '200 MiB with 50,000 parked (smaller run: not the target\'s size)', met: undefined })
  })

  it('renders the settings, both sections and what the cap leaves on the topic', () => {
    const markdown = renderBacklogMarkdown(result())
    expect(markdown).toContain('**Load average (1, 5, 15 min):** 0.5 / 0.4 / 0.3 at the start')
    expect(markdown).toContain('| 2 | B (endpoint refusing connections) | 3,800 | 3,800 | – | 0 / 0 / 0 / 0 | yes |')
    expect(markdown).toContain('Best: 4,000/s without the outage, 3,800/s with it: **95 %**.')
    expect(markdown).toContain('| Retry-topic records not held: parked items left unread, plus a handover marker or two per partition | 760,012 |')
    expect(markdown).toContain('| Held with their bytes at most: RETRY_MAX_PARKED_IN_MEMORY × partitions | 20,000 × 12 = 240,000 |')
    expect(markdown).toContain('Reading stopped here: 240,000 of 1,000,000')
    expect(markdown).toContain('| Memory-reducing collections the dispatcher ran (RSS past MEMORY_SOFT_LIMIT_MIB; webhooks_memory_collections_total) | – |')
    const allHeld = renderBacklogMarkdown(result({ memory: memory({ heldInMemory: 1_000_000, heldWithoutBytes: 760_000, trackedPerPartition: 200_000, collections: 7 }) }))
    expect(allHeld).toContain('| Memory-reducing collections the dispatcher ran (RSS past MEMORY_SOFT_LIMIT_MIB; webhooks_memory_collections_total) | 7 |')
    expect(allHeld).toContain('| Reading stops at: RETRY_MAX_PARKED_TRACKED × partitions | 200,000 × 12 = 2,400,000 |')
    expect(allHeld).toContain('Every parked delivery is held in memory: 240,000 with their bytes (a head\'s task, or packed), 760,000 without')
    const isolationOnly = renderBacklogMarkdown(result({ memory: undefined }))
    expect(isolationOnly).not.toContain('## Memory')
    expect(isolationOnly).toContain('## Isolation')
  })

  it('reads VmRSS and VmHWM from /proc/<pid>/status', () => {
    expect(parseProcStatus('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n')).toEqual({ rss: 100 * MiB, peakRss: 200 * MiB })
    expect(parseProcStatus('Name:\tnode\n').rss).toBeNaN()
  })

  it('validates its settings and names the variable', () => {
    expect(loadBacklogConfig({}).parkedEvents).toBe(1_000_000)
    expect(loadBacklogConfig({}).retryCap).toBeUndefined()
    expect(loadBacklogConfig({ BENCH_BACKLOG_RETRY_CAP: '100000' }).retryCap).toBe(100_000)
    expect(() => loadBacklogConfig({ BENCH_BACKLOG_EVENTS: '10k' })).toThrow(/BENCH_BACKLOG_EVENTS/)
    expect(() => loadBacklogConfig({ BENCH_BACKLOG_ONLY: 'both' })).toThrow(/BENCH_BACKLOG_ONLY/)
    expect(loadBacklogConfig({}).downMode).toBe('refused')
    expect(loadBacklogConfig({ BENCH_BACKLOG_DOWN: 'timeout' }).downMode).toBe('timeout')
    expect(() => loadBacklogConfig({ BENCH_BACKLOG_DOWN: 'slow' })).toThrow(/BENCH_BACKLOG_DOWN/)
  })

  it('finds the inspector URL the dispatcher prints, on loopback only', () => {
    const printed = 'Debugger listening on ws://127.0.0.1:40123/0f1c2d3e-aaaa-bbbb-cccc-123456789abc\nFor help, see: https://nodejs.org/en/docs/inspector\n'
    expect(inspectorUrlOf(`{"level":"info"}\n${printed}`)).toBe('ws://127.0.0.1:40123/0f1c2d3e-aaaa-bbbb-cccc-123456789abc')
    expect(inspectorUrlOf('Debugger listening on ws://0.0.0.0:9229/abc')).toBeUndefined()
  })
})
