// Pure part of the backlog bench (backlog.ts): settings, the judgement of
// each phase, the figures of issue 14 and their markdown. No I/O here.
import { mainHeapLimitMib } from '../../services/dispatcher/src/memory/heap-limits.js'
import type { Completeness } from './dispatcher-run.js'
import type { DownMode } from './down-endpoint.js'
import { ratio, type Rate } from './stats.js'
import { envInteger } from './env-integer.js'

/** Targets of issue 14. */
export const BACKLOG_TARGETS = {
  /** Healthy endpoints' rate during the outage ÷ without it. */
  isolation: 0.9,
  /** Heap bytes per parked delivery held in memory. */
  heapBytesPerParked: 256,
  /** Dispatcher RSS with the target's backlog parked. */
  rssMiB: 512,
  /** The backlog size the memory targets are stated for. */
  parkedEvents: 1_000_000
} as const

export interface BacklogConfig {
  /** Alternating rounds of phase A (no outage) and phase B (one endpoint down). */
  rounds: number
  /** Events of the isolation phases (each matches every subscription). */
  isolationEvents: number
  /** Healthy endpoints besides the one that goes down. */
  healthy: number
  /** Events parked behind the down endpoint in the memory phase. */
  parkedEvents: number
  partitions: number
  accounts: number
  /** Longest a phase may take. */
  budgetMs: number
  /** BENCH_BACKLOG_SIT_SECONDS: how long the parked count must stay the same before memory is read (the process sitting with its backlog). */
  sitSeconds: number
  /** RETRY_MAX_PARKED_IN_MEMORY for the memory phase; undefined: the dispatcher's default. */
  retryCap: number | undefined
  /** BENCH_BACKLOG_MEMORY_LIMIT_MIB: a memory cgroup for the memory phase's dispatcher, as a container limit; 0 for none. */
  memoryLimitMib: number
  /** How the outage's endpoint is down (down-endpoint.ts). */
  downMode: DownMode
  /** BENCH_BACKLOG_DRAIN_EVENTS: events parked in each drain run (0 skips the drain phase). */
  drainEvents: number
  /** BENCH_BACKLOG_DRAIN_WITH_BYTES: RETRY_MAX_PARKED_IN_MEMORY of the drain runs that hold most items without their bytes. */
  drainWithBytes: number
  /** Run one part only: 'isolation', 'memory' or 'drain'; '' runs all. */
  only: '' | 'isolation' | 'memory' | 'drain'
  resultsPath: string
}

const int = envInteger

export function loadBacklogConfig (env: Record<string, string | undefined> = process.env): Readonly<BacklogConfig> {
  const only = (env.BENCH_BACKLOG_ONLY ?? '').trim()
  if (only !== '' && only !== 'isolation' && only !== 'memory' && only !== 'drain') throw new Error(`BENCH_BACKLOG_ONLY must be isolation, memory or drain, got "${only}"`)
  const cap = env.BENCH_BACKLOG_RETRY_CAP
  const downMode = (env.BENCH_BACKLOG_DOWN ?? 'refused').trim()
  if (downMode !== 'refused' && downMode !== '503' && downMode !== 'timeout') throw new Error(`BENCH_BACKLOG_DOWN must be refused, 503 or timeout, got "${downMode}"`)
  return Object.freeze({
    rounds: int(env, 'BENCH_BACKLOG_ROUNDS', 2, 1, 5),
    isolationEvents: int(env, 'BENCH_BACKLOG_ISOLATION_EVENTS', 20_000, 100, 1_000_000),
    healthy: int(env, 'BENCH_BACKLOG_HEALTHY', 3, 1, 8),
    parkedEvents: int(env, 'BENCH_BACKLOG_EVENTS', 1_000_000, 100, 5_000_000),
    partitions: int(env, 'BENCH_BACKLOG_PARTITIONS', 12, 1, 256),
    accounts: int(env, 'BENCH_BACKLOG_ACCOUNTS', 4000, 1, 1_000_000),
    budgetMs: int(env, 'BENCH_BACKLOG_BUDGET_MS', 1_800_000, 10_000, 7_200_000),
    // Past a minute, so the dispatcher's own collection of a backlog it sits on (memory/pressure.ts) has run.
    sitSeconds: int(env, 'BENCH_BACKLOG_SIT_SECONDS', 80, 6, 3600),
    retryCap: cap === undefined || cap.trim() === '' ? undefined : int(env, 'BENCH_BACKLOG_RETRY_CAP', 0, 1, 10_000_000),
    drainEvents: int(env, 'BENCH_BACKLOG_DRAIN_EVENTS', 100_000, 0, 5_000_000),
    drainWithBytes: int(env, 'BENCH_BACKLOG_DRAIN_WITH_BYTES', 1000, 1, 10_000_000),
    // The Helm chart's memory limit (deploy/helm/webhook-dispatcher/values.yaml).
    memoryLimitMib: int(env, 'BENCH_BACKLOG_MEMORY_LIMIT_MIB', 1536, 0, 65_536),
    downMode,
    only,
    resultsPath: env.BENCH_BACKLOG_RESULTS ?? 'bench/backlog.md'
  })
}

/** One dispatcher run of an isolation phase: what the healthy endpoints received. */
export interface IsolationPhase {
  /** Deliveries to all healthy endpoints together, first to last receipt. */
  healthy: Rate
  /** Per healthy endpoint, by the shared oracle. */
  completeness: Completeness[]
  badSignatures: number
  /** Phase B: deliveries held parked when the healthy endpoints had everything. */
  parkedAtEnd: number | undefined
  exitCode: number | null
}

export interface IsolationRound {
  withoutOutage: IsolationPhase
  withOutage: IsolationPhase
}

export interface MemorySample {
  /** V8 heap used (main thread) right after a full garbage collection, bytes: what the process retains. */
  heapUsed: number
  /** Memory outside the V8 heap held by JavaScript objects (ArrayBuffers, buffers) on the main thread, after the same GC, bytes. */
  external?: number
  /** VmRSS of the process, bytes. */
  rss: number
  /** VmRSS right after the main thread's full garbage collection, bytes. */
  rssAfterGc?: number
}

export interface MemoryResult {
  events: number
  before: MemorySample
  after: MemorySample
  /** VmHWM: the highest RSS the process reached. */
  peakRss: number
  /** Parked deliveries held in memory by the retry lanes (webhooks_parked_backlog). */
  heldInMemory: number
  /** Of them, held without their bytes (webhooks_parked_without_bytes). */
  heldWithoutBytes?: number
  /** Memory-reducing collections the dispatcher ran (webhooks_memory_collections_total: RSS past MEMORY_SOFT_LIMIT_MIB). */
  collections?: number
  /** RETRY_MAX_PARKED_TRACKED in force: where a retry partition stops reading. */
  trackedPerPartition?: number
  /** Records written to the retry topic (its end offsets, handover markers included). */
  onRetryTopic: number
  /** RETRY_MAX_PARKED_IN_MEMORY in force, × partitions: what memory can hold at most. */
  cap: number
  capPerPartition: number
  /** From the first produce to source caught up and the parked count steady. */
  parkSeconds: number
  produceSeconds: number
  exitCode: number | null
  /** The memory cgroup the dispatcher ran in (BENCH_BACKLOG_MEMORY_LIMIT_MIB), or why there was none. */
  limit?: { limitMib: number, peakBytes: number | undefined, oomKills: number } | { limitMib: number, unavailable: string }
}

/** One drain run: a backlog parked behind a 503 endpoint, drained once it answers 204. */
export interface DrainRun {
  round: number
  /** RETRY_MAX_PARKED_IN_MEMORY of the run. */
  withBytesPerPartition: number
  events: number
  /** Parked items held without their bytes when the endpoint came back. */
  withoutBytes: number
  delivered: number
  /** From the endpoint's return to the last event accepted. */
  seconds: number
  cpuMicrosPerDelivery: number
  missing: number
  orderViolations: number
  duplicates: number
}

export interface BacklogResult {
  date: string
  machine: string
  loadAtStart: string
  loadAtEnd: string
  durationSeconds: number
  config: BacklogConfig
  downMode: string
  isolation: IsolationRound[]
  memory: MemoryResult | undefined
  drain?: DrainRun[]
}

/** Why a phase's rate cannot be trusted; empty when it can. */
export function phaseProblems (phase: IsolationPhase): string[] {
  const found: string[] = []
  if (!phase.healthy.complete) found.push('healthy endpoints not drained within the budget')
  phase.completeness.forEach((c, i) => {
    const endpoint = `healthy endpoint ${i + 1}`
    if (c.missing > 0) found.push(`${endpoint}: ${c.missing} events never delivered`)
    if (c.unexpected > 0) found.push(`${endpoint}: ${c.unexpected} unexpected webhook-ids`)
    if (c.orderViolations > 0) found.push(`${endpoint}: ${c.orderViolations} accounts out of order`)
  })
  if (phase.badSignatures > 0) found.push(`${phase.badSignatures} bad signatures`)
  if (phase.exitCode !== 0) found.push(`unclean shutdown (exit code ${String(phase.exitCode)})`)
  return found
}

/** Fastest valid rate of the phase over the rounds (load from others only ever slows a phase down). */
export function bestRate (phases: readonly IsolationPhase[]): number {
  const rates = phases.filter((p) => phaseProblems(p).length === 0).map((p) => p.healthy.perSecond)
  return rates.length === 0 ? Number.NaN : Math.max(...rates)
}

/** Healthy rate during the outage ÷ without it, each phase's best round. */
export function isolationRatio (rounds: readonly IsolationRound[]): number {
  return ratio(bestRate(rounds.map((r) => r.withOutage)), bestRate(rounds.map((r) => r.withoutOutage)))
}

/** Heap bytes per parked delivery held in memory; NaN when none is held. */
export function heapPerParked (m: MemoryResult): number {
  return m.heldInMemory > 0 ? (m.after.heapUsed - m.before.heapUsed) / m.heldInMemory : Number.NaN
}

export interface BacklogVerdict {
  target: string
  measured: string
  met: boolean | undefined
}

const MiB = 2 ** 20
const pct = (x: number): string => Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : 'n/a'
const n = (x: number): string => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a'
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`

export function backlogVerdicts (r: BacklogResult): BacklogVerdict[] {
  const found: BacklogVerdict[] = []
  if (r.isolation.length > 0) {
    const kept = isolationRatio(r.isolation)
    found.push({ target: `Isolation: healthy endpoints keep ≥ ${pct(BACKLOG_TARGETS.isolation)} of their rate while one endpoint is down`, measured: pct(kept), met: Number.isFinite(kept) ? kept >= BACKLOG_TARGETS.isolation : undefined })
  }
  const m = r.memory
  if (m !== undefined) {
    const fullSize = m.events >= BACKLOG_TARGETS.parkedEvents
    const perItem = heapPerParked(m)
    found.push({ target: `Heap per parked delivery held in memory ≤ ${BACKLOG_TARGETS.heapBytesPerParked} B`, measured: `${n(perItem)} B (${n(m.heldInMemory)} held)`, met: Number.isFinite(perItem) ? perItem <= BACKLOG_TARGETS.heapBytesPerParked : undefined })
    found.push({
      target: `RSS ≤ ${BACKLOG_TARGETS.rssMiB} MiB with ${n(BACKLOG_TARGETS.parkedEvents)} deliveries parked`,
      measured: `${mib(m.after.rss)} with ${n(m.events)} parked${fullSize ? '' : ' (smaller run: not the target\'s size)'}`,
      // Met only at the target's size: a smaller backlog says nothing about it.
      met: fullSize ? m.after.rss <= BACKLOG_TARGETS.rssMiB * MiB : undefined
    })
  }
  return found
}

const yesNo = (met: boolean | undefined): string => met === undefined ? 'not judged' : met ? 'yes' : 'no'

function isolationSection (r: BacklogResult): string {
  const { config } = r
  const rows = r.isolation.flatMap((round, i) => ([['A (no outage)', round.withoutOutage], [`B (endpoint ${r.downMode})`, round.withOutage]] as const).map(([name, p]) => {
    const c = p.completeness.reduce((sum, x) => ({ missing: sum.missing + x.missing, duplicates: sum.duplicates + x.duplicates, orderViolations: sum.orderViolations + x.orderViolations }), { missing: 0, duplicates: 0, orderViolations: 0 })
    const problems = phaseProblems(p)
    return `| ${i + 1} | ${name} | ${n(p.healthy.perSecond)} | ${n(p.healthy.count)} | ${p.parkedAtEnd === undefined ? '–' : n(p.parkedAtEnd)} | ${c.missing} / ${c.duplicates} / ${c.orderViolations} / ${p.badSignatures} | ${problems.length === 0 ? 'yes' : problems.join('; ')} |`
  }))
  const best = (pick: (x: IsolationRound) => IsolationPhase): number => bestRate(r.isolation.map(pick))
  return `## Isolation

${config.isolationEvents.toLocaleString('en-US')} pre-produced events over ${Math.min(config.accounts, config.isolationEvents).toLocaleString('en-US')} accounts, one topic with ${config.partitions} partitions, one tenant, ${config.healthy + 1} subscriptions matching every event: ${config.healthy} healthy endpoints (each its own receiver process, answering 204 at once) and one more that is **up in phase A and ${r.downMode} in phase B**. Phase A keeps the fourth endpoint up rather than absent, so both phases decode, match and fan out the same work; the only difference is the outage. Each phase is a fresh dispatcher process with a fresh consumer group (so fresh retry topics: \`<source>.retry.<group>\`) reading the same events from the start; phases alternate A, B for ${config.rounds} round(s), and the ratio takes each phase's fastest valid round. The rate is the healthy endpoints' deliveries together ÷ (last − first receipt across them).

| Round | Phase | Healthy deliveries/s | Deliveries | Parked at the end | Missing / duplicates / order violations / bad signatures | Valid |
|--:|---|--:|--:|--:|---|---|
${rows.join('\n')}

Best: ${n(best((x) => x.withoutOutage))}/s without the outage, ${n(best((x) => x.withOutage))}/s with it: **${pct(isolationRatio(r.isolation))}**.
`
}

function memorySection (m: MemoryResult, config: BacklogConfig): string {
  const notRead = Math.max(0, m.onRetryTopic - m.heldInMemory)
  const capped = m.heldInMemory < m.events
  return `## Memory per parked delivery

${n(m.events)} events over ${config.accounts.toLocaleString('en-US')} accounts, ${config.partitions} partitions, one subscription whose endpoint is down (${config.downMode}); everything else at the dispatcher's defaults${config.retryCap === undefined ? '' : ` except RETRY_MAX_PARKED_IN_MEMORY=${config.retryCap}`}. The dispatcher starts on the empty topic; heap and RSS are sampled, the events are produced, and once the source group has committed everything (each record parked) and the parked count has stayed the same for ${config.sitSeconds} s (BENCH_BACKLOG_SIT_SECONDS: the process sitting with its backlog), heap and RSS are sampled again. RSS is read as the process sits (the target's figure; the dispatcher runs a memory-reducing collection of its own whenever RSS passes MEMORY_SOFT_LIMIT_MIB, 512 by default, while it is quiet, at most every 10 s; while it stays above, again once RSS grew by a tenth or a minute passed), then the main thread's heap right after a full garbage collection forced through the V8 inspector (\`--inspect=127.0.0.1:0\`), so garbage not yet collected does not count, and RSS again after that collection: the difference is the main thread's garbage V8 had not collected yet (the history threads' heaps are not collected by it).

| | Before | After | Difference |
|---|--:|--:|--:|
| V8 heap used, after a full GC (inspector) | ${mib(m.before.heapUsed)} | ${mib(m.after.heapUsed)} | ${mib(m.after.heapUsed - m.before.heapUsed)} |
| External memory of the main thread (buffers, ArrayBuffers), after the same GC | ${m.before.external === undefined ? '–' : mib(m.before.external)} | ${m.after.external === undefined ? '–' : mib(m.after.external)} | ${m.before.external === undefined || m.after.external === undefined ? '–' : mib(m.after.external - m.before.external)} |
| RSS (VmRSS) | ${mib(m.before.rss)} | ${mib(m.after.rss)} | ${mib(m.after.rss - m.before.rss)} |
| RSS right after that GC | ${m.before.rssAfterGc === undefined ? '–' : mib(m.before.rssAfterGc)} | ${m.after.rssAfterGc === undefined ? '–' : mib(m.after.rssAfterGc)} | ${m.before.rssAfterGc === undefined || m.after.rssAfterGc === undefined ? '–' : mib(m.after.rssAfterGc - m.before.rssAfterGc)} |

| | |
|---|--:|
| Parked deliveries held in memory (webhooks_parked_backlog) | ${n(m.heldInMemory)} |
| Records on the retry topic (end offsets, handover markers included) | ${n(m.onRetryTopic)} |
| Retry-topic records not held: parked items left unread, plus a handover marker or two per partition | ${n(notRead)} |
| Of them held without their bytes (webhooks_parked_without_bytes) | ${m.heldWithoutBytes === undefined ? '–' : n(m.heldWithoutBytes)} |
| Held with their bytes at most: RETRY_MAX_PARKED_IN_MEMORY × partitions | ${n(m.capPerPartition)} × ${config.partitions} = ${n(m.cap)} |
| Reading stops at: RETRY_MAX_PARKED_TRACKED × partitions | ${m.trackedPerPartition === undefined ? '–' : `${n(m.trackedPerPartition)} × ${config.partitions} = ${n(m.trackedPerPartition * config.partitions)}`} |
| **Heap per parked delivery held** | **${n(heapPerParked(m))} B** |
| External memory per parked delivery held (its packed bytes, outside the heap) | ${m.before.external === undefined || m.after.external === undefined || m.heldInMemory === 0 ? '–' : `${n((m.after.external - m.before.external) / m.heldInMemory)} B`} |
| RSS per parked delivery held | ${n(m.heldInMemory > 0 ? (m.after.rss - m.before.rss) / m.heldInMemory : Number.NaN)} B |
| Peak RSS (VmHWM) | ${mib(m.peakRss)} |
| Memory-reducing collections the dispatcher ran (RSS past MEMORY_SOFT_LIMIT_MIB; webhooks_memory_collections_total) | ${m.collections === undefined ? '–' : n(m.collections)} |
| Memory limit (a cgroup, as a container's; BENCH_BACKLOG_MEMORY_LIMIT_MIB) | ${limitText(m)} |
| Produce time / time until all parked | ${m.produceSeconds.toFixed(0)} s / ${m.parkSeconds.toFixed(0)} s |
| Dispatcher exit code after SIGTERM | ${String(m.exitCode)} |

${capped
    ? `Reading stopped here: ${n(m.heldInMemory)} of ${n(m.events)} parked deliveries are held, the rest wait unread on the retry topic. A retry partition stops reading at RETRY_MAX_PARKED_TRACKED and resumes below half of it, so nothing parked behind that — another endpoint's parked items on the same retry partition included — is read until the down endpoint's items drain.`
    : `Every parked delivery is held in memory${m.heldWithoutBytes === undefined ? '' : `: ${n(m.heldInMemory - m.heldWithoutBytes)} with their bytes (a head's task, or packed), ${n(m.heldWithoutBytes)} without (read again from the retry topic when they become their account's next delivery)`}. The heap per item is the average over both kinds.`}
`
}

function limitText (m: MemoryResult): string {
  if (m.limit === undefined) return 'none'
  if ('unavailable' in m.limit) return `${n(m.limit.limitMib)} MiB asked for, none set: ${m.limit.unavailable}`
  return `${n(m.limit.limitMib)} MiB, the main thread's heap at --max-old-space-size=${mainHeapLimitMib(m.limit.limitMib)} as the Helm chart sets it for that limit: peak use ${m.limit.peakBytes === undefined ? '–' : mib(m.limit.peakBytes)} (the cgroup's count: anonymous memory and page cache), ${m.limit.oomKills} OOM kills`
}

function drainSection (r: BacklogResult): string {
  const runs = r.drain ?? []
  if (runs.length === 0) return ''
  const rows = runs.map((d) => `| ${d.round} | ${d.withBytesPerPartition >= d.events ? 'all' : n(d.withBytesPerPartition)} | ${n(d.withoutBytes)} | ${d.seconds.toFixed(1)} s | ${n(d.delivered / d.seconds)} | ${n(d.cpuMicrosPerDelivery)} µs | ${d.missing} / ${d.orderViolations} / ${d.duplicates} |`)
  return `
## Draining a backlog once the endpoint is back

${n(runs[0]?.events ?? 0)} events over ${r.config.accounts.toLocaleString('en-US')} accounts and ${r.config.partitions} partitions, one subscription whose endpoint answers 503 until every event is parked and held, then 204 (no open circuit: heads are tried every 5 s). Each run a fresh dispatcher; runs alternate every item held with its bytes and at most BENCH_BACKLOG_DRAIN_WITH_BYTES per partition with them (the rest read again from the retry partition when due). Not a target of the issue: what holding items without their bytes costs when they drain.

| Round | With bytes per partition (RETRY_MAX_PARKED_IN_MEMORY) | Held without bytes | Drain time | Deliveries/s | Dispatcher CPU per delivery | Missing / order violations / duplicates |
|--:|--:|--:|--:|--:|--:|---|
${rows.join('\n')}
`
}

export function renderBacklogMarkdown (r: BacklogResult): string {
  const verdicts = backlogVerdicts(r)
  return `# Backlog bench: an endpoint down, the others' rate, and memory per parked delivery

Generated by \`make bench-backlog\` (test/bench/backlog.ts), also the last step of \`make bench\`. Issue 14.

- **Date:** ${r.date}
- **Machine:** ${r.machine}
- **Load average (1, 5, 15 min):** ${r.loadAtStart} at the start, ${r.loadAtEnd} at the end
- **Run time:** ${r.durationSeconds.toFixed(0)} s
- **Settings:** BENCH_BACKLOG_ROUNDS=${r.config.rounds}, BENCH_BACKLOG_ISOLATION_EVENTS=${r.config.isolationEvents}, BENCH_BACKLOG_HEALTHY=${r.config.healthy}, BENCH_BACKLOG_EVENTS=${r.config.parkedEvents}, BENCH_BACKLOG_PARTITIONS=${r.config.partitions}, BENCH_BACKLOG_ACCOUNTS=${r.config.accounts}, BENCH_BACKLOG_DOWN=${r.config.downMode}, BENCH_BACKLOG_MEMORY_LIMIT_MIB=${r.config.memoryLimitMib}, BENCH_BACKLOG_SIT_SECONDS=${r.config.sitSeconds}, BENCH_BACKLOG_DRAIN_EVENTS=${r.config.drainEvents}, BENCH_BACKLOG_DRAIN_WITH_BYTES=${r.config.drainWithBytes}${r.config.retryCap === undefined ? '' : `, BENCH_BACKLOG_RETRY_CAP=${r.config.retryCap}`}${process.env.BENCH_BACKLOG_ENV === undefined ? '' : `, BENCH_BACKLOG_ENV=${process.env.BENCH_BACKLOG_ENV}`}; the dispatcher at its defaults (MAX_IN_FLIGHT 512, ENDPOINT_MAX_IN_FLIGHT 64, RETRY_MAX_PARKED_IN_MEMORY 5000, …)

## Targets

| Target | Measured | Met |
|---|---|---|
${verdicts.map((v) => `| ${v.target} | ${v.measured} | ${yesNo(v.met)} |`).join('\n')}

${r.isolation.length > 0 ? isolationSection(r) : ''}
${r.memory !== undefined ? memorySection(r.memory, r.config) : ''}${drainSection(r)}`
}

/** VmRSS and VmHWM of a /proc/<pid>/status text, in bytes. */
export function parseProcStatus (text: string): { rss: number, peakRss: number } {
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)
    return match === null ? Number.NaN : Number(match[1]) * 1024
  }
  return { rss: kib('VmRSS'), peakRss: kib('VmHWM') }
}
