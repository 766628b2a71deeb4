import { describe, expect, it } from 'vitest'
import type { DispatcherRunResult } from './dispatcher-run.js'
import { summarizeProfile } from './profile.js'
import { bestOf, problems, renderMarkdown, verdicts, workloadProblems, type BenchResult, type Round, type WorkloadResult } from './report.js'
import { percentile, rateOf, ratio } from './stats.js'

const cpu = { senderCores: 0.5, receiverCores: 0.1, machineCores: 1, senderUsPerItem: 100 }

function dispatcherRun (overrides: Partial<DispatcherRunResult> = {}): DispatcherRunResult {
  return {
    backlog: rateOf(1000, 0, 1000, true),
    completeness: { expected: 1000, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 0 },
    receiver: { maxInFlight: 16, connections: 16, verified: 20, badSignatures: 0 },
    cpu,
    paced: undefined,
    profile: undefined,
    exitCode: 0,
    exitedEarly: undefined,
    ...overrides
  }
}

function round (naivePerSecond: number, dispatcher: DispatcherRunResult, ceilingBPerSecond = 2000): Round {
  const post = { rate: rateOf(ceilingBPerSecond, 0, 1000, true), failures: 0, cpu }
  return { ceilingB: post, deliverer: post, naive: { rate: rateOf(naivePerSecond, 0, 1000, false), cpu }, dispatcher }
}

function workload (name: string, naivePerSecond: number, dispatcher: DispatcherRunResult): WorkloadResult {
  return { name, description: name, receiverDelayMs: 0, rounds: [round(naivePerSecond, dispatcher)] }
}

function bench (w1: WorkloadResult, w2: WorkloadResult): BenchResult {
  return {
    date: '2026-01-01T00:00:00.000Z',
    rounds: 1,
    machine: 'test',
    events: 1000,
    accounts: 100,
    partitions: 12,
    maxInFlight: 512,
    naiveBudgetMs: 20_000,
    ceilingA: rateOf(5000, 0, 1000, true),
    workloads: [w1, w2],
    durationSeconds: 1,
    command: 'make bench'
  }
}

describe('bench arithmetic', () => {
  it('measures a rate from the first to the last item', () => {
    expect(rateOf(500, 1000, 1500, true).perSecond).toBe(1000)
    expect(rateOf(1, 1000, 1000, true).perSecond).toBeNaN()
    expect(rateOf(0, undefined, undefined, false).perSecond).toBeNaN()
  })

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 99)).toBe(99)
    expect(percentile(values, 100)).toBe(100)
    expect(percentile([], 50)).toBeNaN()
  })

  it('gives NaN for a ratio over nothing', () => {
    expect(ratio(10, 0)).toBeNaN()
    expect(ratio(Number.NaN, 2)).toBeNaN()
    expect(ratio(10, 4)).toBe(2.5)
  })
})

describe('bench verdicts', () => {
  it('refuses a dispatcher number when events are missing, out of order or badly signed', () => {
    expect(problems(dispatcherRun())).toEqual([])
    expect(problems(dispatcherRun({ completeness: { expected: 1000, missing: 3, unexpected: 0, duplicates: 0, orderViolations: 0 } }))).toEqual(['3 events never delivered'])
    expect(problems(dispatcherRun({ completeness: { expected: 1000, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 2 } }))).toEqual(['2 accounts out of order'])
    expect(problems(dispatcherRun({ receiver: { maxInFlight: 1, connections: 1, verified: 1, badSignatures: 1 } }))).toEqual(['1 bad signatures'])
    expect(problems(dispatcherRun({ backlog: rateOf(10, 0, 1, false) }))[0]).toMatch(/not drained/)
    expect(problems(dispatcherRun({ exitCode: 1 }))).toEqual(['unclean shutdown (exit code 1)'])
  })

  it('meets a target only with a valid run', () => {
    // W1: 1000/s against the lower ceiling 2000/s (B) = 50%; W2: 1000/s ÷ 40/s naive = 25×.
    const ok = verdicts(bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, dispatcherRun())))
    expect(ok.map((v) => v.met)).toEqual([true, false])
    const broken = dispatcherRun({ completeness: { expected: 1000, missing: 1, unexpected: 0, duplicates: 0, orderViolations: 0 } })
    expect(verdicts(bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, broken)))[0]?.met).toBe(false)
  })

  it('keeps the fastest round of each measure, and lets one bad round spoil the workload', () => {
    const slow = dispatcherRun({ backlog: rateOf(500, 0, 1000, true) })
    const w: WorkloadResult = {
      name: 'W1',
      description: 'W1',
      receiverDelayMs: 0,
      rounds: [round(300, slow, 3000), round(100, dispatcherRun(), 2000)]
    }
    const best = bestOf(w)
    expect([best.ceilingB.rate.perSecond, best.naive.rate.perSecond, best.dispatcher.backlog.perSecond]).toEqual([3000, 300, 1000])
    expect(workloadProblems(w)).toEqual([])
    w.rounds.push(round(100, dispatcherRun({ exitCode: 1 })))
    expect(workloadProblems(w)).toEqual(['round 3: unclean shutdown (exit code 1)'])
  })

  it('renders the table with one row per workload', () => {
    const markdown = renderMarkdown(bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, dispatcherRun())))
    const rows = markdown.split('\n').filter((l) => /^\| (W[12]): \1 \|/.test(l))
    expect(rows).toHaveLength(2)
    expect(rows[1]).toContain('| 25× |')
  })
})

describe('profile summary', () => {
  it('attributes self time by where the code lives and leaves idle out', () => {
    const summary = summarizeProfile({
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'decode', url: 'file:///x/node_modules/kafkajs/src/protocol/decoder.js', lineNumber: 9 } },
        { id: 3, callFrame: { functionName: 'pump', url: 'file:///x/dist/services/dispatcher/src/engine/scheduler.js', lineNumber: 0 } }
      ],
      samples: [1, 2, 2, 3],
      timeDeltas: [5000, 3000, 3000, 2000]
    })
    expect(summary.busyMs).toBe(8)
    expect(summary.categories[0]).toMatchObject({ name: 'kafkajs (fetch, protocol, record batches)', ms: 6 })
    expect(summary.top.map((f) => f.name)).toEqual(['decode', 'pump'])
  })
})
