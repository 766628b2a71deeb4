import { describe, expect, it } from 'vitest'
import type { DispatcherRunResult } from './dispatcher-run.js'
import { summarizeProfile } from './profile.js'
import { summarizeLoad } from './load.js'
import { bestOf, problems, renderMarkdown, scaleOutProblems, verdicts, workloadProblems, type BenchResult, type Round, type WorkloadResult } from './report.js'
import type { ScaleOutRun } from './scale-out.js'
import { percentile, rateOf, ratio } from './stats.js'

const cpu = { senderCores: 0.5, receiverCores: 0.1, machineCores: 1, senderUsPerItem: 100 }

function dispatcherRun (overrides: Partial<DispatcherRunResult> = {}): DispatcherRunResult {
  return {
    backlog: rateOf(1000, 0, 1000, true),
    completeness: { expected: 1000, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 0 },
    receiver: { maxInFlight: 16, connections: 16, verified: 20, badSignatures: 0 },
    cpu,
    steadyCpu: cpu,
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

function bench (w1: WorkloadResult, w2: WorkloadResult, overrides: Partial<BenchResult> = {}): BenchResult {
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
    latencyRate: 1000,
    scaleOut: undefined,
    load: undefined,
    durationSeconds: 1,
    command: 'make bench',
    ...overrides
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
    // CPU 100 µs meets ≤ 100; no paced phase and no scale-out: not met.
    expect(ok.map((v) => [v.figure.split(':')[0], v.met])).toEqual([['W2', true], ['W1', false], ['W1', true], ['W1 at 1,000 events/s', false], ['W2', false]])
    const broken = dispatcherRun({ completeness: { expected: 1000, missing: 1, unexpected: 0, duplicates: 0, orderViolations: 0 } })
    expect(verdicts(bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, broken)))[0]?.met).toBe(false)
  })

  it('judges CPU per delivery past the warm-up by the cheapest round, by thread, with the whole backlog beside it', () => {
    const threads = { delivery: 60, historyWriter: 12, historyIndexer: 16, v8Helpers: 7, other: 0 }
    const w1: WorkloadResult = {
      name: 'W1',
      description: 'W1',
      receiverDelayMs: 0,
      rounds: [
        round(100, dispatcherRun({ cpu: { ...cpu, senderUsPerItem: 100 }, steadyCpu: { ...cpu, senderUsPerItem: 140 } })),
        round(100, dispatcherRun({ cpu: { ...cpu, senderUsPerItem: 110 }, steadyCpu: { ...cpu, senderUsPerItem: 95, senderThreadsUsPerItem: threads } }))
      ]
    }
    const row = verdicts(bench(w1, workload('W2', 40, dispatcherRun()))).find((v) => v.figure.includes('CPU per delivery'))
    expect(row).toMatchObject({
      target: '≤ 100 µs',
      measured: '95.0 µs (delivery thread 60, history writer 12, indexer 16, V8 helpers 7; whole backlog 100 µs)',
      met: true
    })
  })

  it('misses the CPU target when only the whole backlog, warm-up included, is under it', () => {
    const w1 = workload('W1', 100, dispatcherRun({ cpu: { ...cpu, senderUsPerItem: 90 }, steadyCpu: { ...cpu, senderUsPerItem: 100.4, senderMainThreadUsPerItem: 60 } }))
    const row = verdicts(bench(w1, workload('W2', 40, dispatcherRun()))).find((v) => v.figure.includes('CPU per delivery'))
    expect(row).toMatchObject({ measured: '100.4 µs (delivery thread 60; whole backlog 90 µs)', met: false })
  })

  it('meets the latency target only at 1,000 events/s with p99 ≤ 50 ms from the acknowledgement', () => {
    const latency = (p99: number): { p50: number, p99: number, max: number } => ({ p50: 3, p99, max: p99 + 1 })
    const paced = (ratePerSecond: number, p99: number): DispatcherRunResult['paced'] => ({
      ratePerSecond,
      events: 100,
      completeness: { expected: 100, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 0 },
      fromAck: latency(p99),
      fromSend: latency(p99 + 5),
      sendToAck: latency(5)
    })
    const row = (p: DispatcherRunResult['paced']): ReturnType<typeof verdicts>[number] | undefined =>
      verdicts(bench(workload('W1', 100, dispatcherRun({ paced: p })), workload('W2', 40, dispatcherRun()))).find((v) => v.figure.includes('ack → receipt'))
    expect(row(paced(1000, 12.5))).toMatchObject({ measured: '12.5 ms (3.0 ms)', met: true })
    expect(row(paced(1000, 51))?.met).toBe(false)
    expect(row(paced(500, 12.5))?.met).toBe(false)
    const markdown = renderMarkdown(bench(workload('W1', 100, dispatcherRun({ paced: paced(1000, 12.5) })), workload('W2', 40, dispatcherRun())))
    expect(markdown).toContain('## Latency at 1,000 events/s')
    expect(markdown).toMatch(/\| Producer's send call → acknowledgement[^|]*\| 3\.0 \| 5\.0 \| 6\.0 \|/)
  })

  it('judges scale-out as two instances ÷ one, only when both runs are valid', () => {
    const run = (instances: number, perSecond: number, overrides: Partial<ScaleOutRun> = {}): ScaleOutRun => ({
      instances,
      rate: rateOf(perSecond, 0, 1000, true),
      completeness: { expected: 1000, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 0 },
      verified: 10,
      badSignatures: 0,
      receiverMaxInFlight: 64 * instances,
      instanceCores: Array.from({ length: instances }, () => 0.1),
      receiverCores: 0.1,
      machineCores: 0.5,
      partitions: instances === 1 ? [12] : [6, 6],
      exitCodes: Array.from({ length: instances }, () => 0),
      exitedEarly: undefined,
      ...overrides
    })
    const scale = (runs: ScaleOutRun[]): BenchResult => bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, dispatcherRun()), {
      scaleOut: { maxInFlight: 64, receiverDelayMs: 100, events: 1000, env: { HISTORY_STORE: 'none' }, runs, failed: undefined }
    })
    const row = (runs: ScaleOutRun[]): ReturnType<typeof verdicts>[number] | undefined => verdicts(scale(runs)).at(-1)
    expect(row([run(1, 600), run(2, 1170)])).toMatchObject({ measured: '1.95× (1,170 ÷ 600)', met: true })
    expect(row([run(1, 600), run(2, 1000)])?.met).toBe(false)
    expect(row([run(1, 600), run(2, 1170, { exitCodes: [0, 1] })])?.met).toBe(false)
    expect(scaleOutProblems(run(2, 1170, { completeness: { expected: 1000, missing: 0, unexpected: 0, duplicates: 0, orderViolations: 3 } }))).toEqual(['2 instance(s): 3 accounts out of order'])
    const markdown = renderMarkdown(scale([run(1, 600), run(2, 1170)]))
    expect(markdown).toContain('2 instances ÷ 1: **1.95×**')
    expect(markdown).toContain('= 64 per instance, HISTORY_STORE=none)')
    // Latency bound: 2 × 64 in flight ÷ 100 ms.
    expect(markdown).toMatch(/^\| 2 \| 6 \+ 6 \| 1,170 \| 1,280 \| 128 \|/m)
    expect(markdown).toContain('## Sizing inputs for 100,000 events/s')
    const failed = bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, dispatcherRun()), {
      scaleOut: { maxInFlight: 64, receiverDelayMs: 100, events: 1000, env: {}, runs: [run(1, 600)], failed: '2 instance(s): group did not settle' }
    })
    expect(verdicts(failed).at(-1)).toMatchObject({ measured: 'n/a (failed: 2 instance(s): group did not settle)', met: false })
    expect(renderMarkdown(failed)).toContain('**Not measured:** 2 instance(s): group did not settle.')
  })

  it('prints the load average in the header', () => {
    const load = summarizeLoad([{ one: 0.5, five: 1, fifteen: 1.5 }, { one: 2.5, five: 1.2, fifteen: 1.5 }, { one: 1.5, five: 1.3, fifteen: 1.4 }])
    expect(load).toMatchObject({ max: 2.5, mean: 1.5, samples: 3 })
    const markdown = renderMarkdown(bench(workload('W1', 100, dispatcherRun()), workload('W2', 40, dispatcherRun()), { load }))
    expect(markdown).toContain('start 0.50 / 1.00 / 1.50, end 1.50 / 1.30 / 1.40; 1-min average over 3 samples: mean 1.50, max 2.50')
    expect(summarizeLoad([])).toBeUndefined()
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
