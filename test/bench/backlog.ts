// Backlog bench (issue 14; `make bench-backlog`, last step of `make bench`):
//
// 1. Isolation. The same pre-produced events, each matching every
//    subscription, read by a fresh dispatcher (fresh group, so fresh retry
//    topics) per phase: A with every endpoint up, B with one endpoint
//    refusing connections while its parked backlog grows. The healthy
//    endpoints' deliveries/s in B ÷ in A, each phase's best of the rounds.
// 2. Memory per parked delivery. BENCH_BACKLOG_EVENTS events for one
//    endpoint that refuses connections: the dispatcher's heap and RSS before
//    and once every record is parked, ÷ the deliveries held in memory.
//
// Build and run: tsc -p test/bench/tsconfig.json && node dist/test/bench/backlog.js
// Settings: backlog-report.ts (loadBacklogConfig). Traffic stays on loopback.
import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { cpus, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { mainHeapLimitMib } from '../../services/dispatcher/src/memory/heap-limits.js'
import { groupCaughtUp, sumMetric } from '../support/admin-client.js'
import { startDispatcher, writeSubscriptionsFile, type DispatcherProcess, type DispatcherSubscription } from '../support/dispatcher-process.js'
import { createEventFeed, type EventFeed } from '../support/event-feed.js'
import { createTestTopics, testKafka } from '../support/kafka.js'
import type { ProducedEvent } from '../support/oracle.js'
import { testStack } from '../support/stack.js'
import {
  backlogVerdicts, isolationRatio, loadBacklogConfig, parseProcStatus, phaseProblems, renderBacklogMarkdown,
  type BacklogConfig, type DrainRun, type IsolationPhase, type IsolationRound, type MemoryResult, type MemorySample
} from './backlog-report.js'
import { judge } from './dispatcher-run.js'
import { allocatorEnv, jemallocLibrary } from './dispatcher-spawn.js'
import { startDownEndpoint, downModeDescriptions } from './down-endpoint.js'
import { inspectorUrlOf, liveMemory } from './inspector.js'
import { createMemoryCgroup } from './memory-cgroup.js'
import { drainRun } from './drain.js'
import { startBenchReceiver, type BenchReceiver } from './receiver.js'
import { rateOf } from './stats.js'

const TENANT = 'tenant-000'
/** The dispatcher's default RETRY_MAX_PARKED_IN_MEMORY (README configuration table). */
const DEFAULT_RETRY_CAP = 5_000
/** RETRY_MAX_PARKED_TRACKED's default. */
const DEFAULT_RETRY_TRACKED = 100_000
const startedAt = Date.now()
const runId = randomUUID().slice(0, 8)

function log (line: string): void {
  process.stderr.write(`[bench-backlog +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`)
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function loadAverage (): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' / ')
}

function machine (): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}; the dispatcher on ${jemallocLibrary() === undefined ? 'glibc\'s malloc (libjemalloc2 is not installed; the image preloads jemalloc)' : 'jemalloc, preloaded as the container image does'}; Kafka and Apicurio Registry on loopback, shared with whatever else runs`
}

/**
 * The dispatcher at its production defaults: startDispatcher sets test
 * values (a 200 ms commit interval, a 6 s session) that are put back here.
 */
async function dispatcher (name: string, env: Record<string, string>, cgroupProcs?: string): Promise<DispatcherProcess> {
  return await startDispatcher({
    COMMIT_INTERVAL_MS: '1000',
    KAFKA_SESSION_TIMEOUT_MS: '30000',
    HANDOVER_WAIT_MS: 'auto',
    HISTORY_TOPIC_PARTITIONS: '6',
    LOG_LEVEL: 'warn',
    SUBSCRIPTIONS_TOPIC: `bench-backlog-subs-${name}-${runId}`,
    DEAD_LETTER_TOPIC: `bench-backlog-dlq-${runId}`,
    HISTORY_SQLITE_PATH: join(tmpdir(), 'whd-bench-history', `${randomUUID()}.sqlite`),
    ...allocatorEnv(),
    ...env,
    // BENCH_BACKLOG_ENV="NAME=value,NAME=value": settings for an experiment, printed in the report's header.
    ...Object.fromEntries((process.env.BENCH_BACKLOG_ENV ?? '').split(',').filter((pair) => pair.includes('=')).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))
  }, cgroupProcs === undefined ? {} : { cgroupProcs })
}

async function stop (proc: DispatcherProcess): Promise<number | null> {
  if (proc.child.exitCode !== null) return proc.child.exitCode
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000)
  try {
    return await proc.exited
  } finally {
    clearTimeout(timer)
  }
}

const alive = (proc: DispatcherProcess): boolean => proc.child.exitCode === null && proc.child.signalCode === null

async function parkedHeld (proc: DispatcherProcess): Promise<number> {
  return await sumMetric([proc.metricsUrl], 'webhooks_parked_backlog')
}

interface IsolationSetup {
  topic: string
  produced: readonly ProducedEvent[]
  healthy: BenchReceiver[]
  /** The endpoint that is up in phase A. */
  spare: BenchReceiver
  secret: string
  downUrl: string
  config: BacklogConfig
}

async function isolationPhase (s: IsolationSetup, outage: boolean, round: number): Promise<IsolationPhase> {
  const name = `${outage ? 'B' : 'A'}${round}`
  const subscriptions: DispatcherSubscription[] = [
    ...s.healthy.map((r, i) => ({ id: `healthy-${i + 1}`, tenantId: TENANT, url: r.url, eventTypes: ['*'], secrets: [s.secret] })),
    { id: 'outage', tenantId: TENANT, url: outage ? s.downUrl : s.spare.url, eventTypes: ['*'], secrets: [s.secret] }
  ]
  await Promise.all([...s.healthy, s.spare].map(async (r) => { await r.reset(0) }))
  const proc = await dispatcher(name, {
    SOURCE_TOPICS: s.topic,
    KAFKA_GROUP_ID: `bench-backlog-${name}-${runId}`,
    SUBSCRIPTIONS_FILE: await writeSubscriptionsFile(subscriptions)
  })
  let exitCode: number | null = null
  try {
    const expected = s.produced.length
    const deadline = Date.now() + s.config.budgetMs
    let stats = await Promise.all(s.healthy.map(async (r) => await r.stats()))
    while (stats.some((x) => x.distinct < expected) && Date.now() < deadline && alive(proc)) {
      await sleep(250)
      stats = await Promise.all(s.healthy.map(async (r) => await r.stats()))
    }
    const complete = stats.every((x) => x.distinct >= expected)
    const parkedAtEnd = outage && alive(proc) ? await parkedHeld(proc) : undefined
    const firsts = stats.flatMap((x) => x.firstAt === undefined ? [] : [x.firstAt])
    const lasts = stats.flatMap((x) => x.lastAt === undefined ? [] : [x.lastAt])
    const healthy = rateOf(stats.reduce((n, x) => n + x.distinct, 0), firsts.length === 0 ? undefined : Math.min(...firsts), lasts.length === 0 ? undefined : Math.max(...lasts), complete)
    const completeness = []
    for (const r of s.healthy) completeness.push(judge(s.produced, TENANT, await r.receipts()))
    if (!alive(proc)) log(`  dispatcher exited during phase ${name}; output tail:\n${proc.output().slice(-3000)}`)
    exitCode = await stop(proc)
    if (exitCode !== 0) log(`  dispatcher exited with ${String(exitCode)} after SIGTERM; output tail:\n${proc.output().slice(-3000)}`)
    const phase: IsolationPhase = { healthy, completeness, badSignatures: stats.reduce((n, x) => n + x.badSignatures, 0), parkedAtEnd, exitCode }
    const problems = phaseProblems(phase)
    log(`  phase ${name}: ${healthy.perSecond.toFixed(0)} healthy deliveries/s${parkedAtEnd === undefined ? '' : `, ${parkedAtEnd} parked`}${problems.length === 0 ? '' : ` INVALID: ${problems.join('; ')}`}`)
    return phase
  } finally {
    if (alive(proc)) await stop(proc)
  }
}

/** RSS as the process sits (VmRSS), then its live heap after a full garbage collection. */
async function sampleMemory (proc: DispatcherProcess): Promise<MemorySample> {
  const rss = parseProcStatus(await readFile(`/proc/${proc.child.pid as number}/status`, 'utf8')).rss
  const url = inspectorUrlOf(proc.output())
  if (url === undefined) throw new Error(`the dispatcher printed no inspector URL:\n${proc.output().slice(-2000)}`)
  const { heapUsed, external } = await liveMemory(url)
  const rssAfterGc = parseProcStatus(await readFile(`/proc/${proc.child.pid as number}/status`, 'utf8')).rss
  return { heapUsed, external, rss, rssAfterGc }
}

/**
 * BENCH_BACKLOG_HEAP_SNAPSHOT=<dir>: a V8 heap snapshot of the dispatcher
 * once the backlog is parked, to see what each parked delivery holds.
 */
const snapshotDir = process.env.BENCH_BACKLOG_HEAP_SNAPSHOT

/** Signals the dispatcher to write a heap snapshot and waits until the file stops growing. */
async function heapSnapshot (proc: DispatcherProcess, dir: string): Promise<void> {
  const existing = new Set(await readdir(dir))
  proc.kill('SIGUSR2')
  let size = -1
  for (let unchanged = 0; unchanged < 3;) {
    await sleep(1000)
    const written = (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot') && !existing.has(f))
    const now = written.length === 0 ? -1 : (await stat(join(dir, written[0] as string))).size
    unchanged = now > 0 && now === size ? unchanged + 1 : 0
    size = now
  }
  log(`  heap snapshot written to ${dir} (${(size / 2 ** 20).toFixed(0)} MiB)`)
}

async function memoryPhase (feed: EventFeed, downUrl: string, secret: string, config: BacklogConfig): Promise<MemoryResult> {
  const topic = `bench-backlog-mem-${runId}`
  const group = `bench-backlog-mem-${runId}`
  // Its admin client only creates the topic: left connected, it would keep the bench process alive.
  await (await createTestTopics([{ topic, numPartitions: config.partitions }])).admin.disconnect()
  const limitMib = config.memoryLimitMib
  const cgroup = limitMib === 0 ? undefined : await createMemoryCgroup(limitMib * 2 ** 20, `whd-bench-${runId}`)
  if (cgroup !== undefined && 'unavailable' in cgroup) log(`memory: no cgroup for the limit (${cgroup.unavailable})`)
  const limited = cgroup === undefined || 'unavailable' in cgroup ? undefined : cgroup
  const proc = await dispatcher('mem', {
    SOURCE_TOPICS: topic,
    KAFKA_GROUP_ID: group,
    SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'down', tenantId: TENANT, url: downUrl, eventTypes: ['*'], secrets: [secret] }]),
    ...(config.retryCap === undefined ? {} : { RETRY_MAX_PARKED_IN_MEMORY: String(config.retryCap) }),
    // The inspector, to collect garbage before each heap reading (inspector.ts).
    // Under a limit, the main thread's heap limit the Helm chart sets for it (memory/heap-limits.ts).
    NODE_OPTIONS: ['--inspect=127.0.0.1:0', ...(limited === undefined ? [] : [`--max-old-space-size=${mainHeapLimitMib(limitMib)}`]), ...(process.env.BENCH_BACKLOG_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== ''), ...(snapshotDir === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`])].join(' ')
  }, limited?.procsFile)
  try {
    const before = await sampleMemory(proc)
    log(`memory: before ${(before.heapUsed / 2 ** 20).toFixed(0)} MiB heap, ${((before.external ?? 0) / 2 ** 20).toFixed(0)} MiB external, ${(before.rss / 2 ** 20).toFixed(0)} MiB RSS; producing ${config.parkedEvents} events`)
    const produceFrom = Date.now()
    // In slices, so the bench process never holds the whole backlog encoded.
    const slice = 20_000
    for (let i = 0; i < config.parkedEvents; i += slice) {
      await feed.publishTransactions(topic, { count: Math.min(slice, config.parkedEvents - i), accounts: config.accounts, batchSize: 2000 })
      if ((i / slice) % 10 === 9) log(`  produced ${i + slice}`)
    }
    const produceSeconds = (Date.now() - produceFrom) / 1000
    log(`  produced in ${produceSeconds.toFixed(0)} s; waiting until every record is parked`)
    // Parked: the source group committed the end of every partition (each
    // record parked, since nothing is delivered) and the held count is steady.
    const deadline = Date.now() + config.budgetMs
    let steady = 0
    let last = -1
    let cpuTicks = 0
    // Samples 2 s apart.
    const steadySamples = Math.ceil(config.sitSeconds / 2)
    while (steady < steadySamples) {
      if (!alive(proc)) {
        const killed = limited === undefined ? 0 : await limited.oomKills()
        throw new Error(killed > 0 ? `the kernel killed the dispatcher for the ${limitMib} MiB memory limit while parking (OOM)` : `dispatcher exited while parking:\n${proc.output().slice(-3000)}`)
      }
      if (Date.now() > deadline) throw new Error(`not every record parked within ${config.budgetMs} ms`)
      await sleep(2000)
      if (process.env.BENCH_BACKLOG_TRACE_MEMORY !== undefined) {
        const url = inspectorUrlOf(proc.output()) as string
        const m = await liveMemory(url, 10_000, false)
        const threads = (await (await fetch(proc.metricsUrl)).text()).split('\n').filter((line) => line.startsWith('webhooks_history_thread_heap_bytes{'))
          .map((line) => `${/role="(\w+)",space="(\w+)"/.exec(line)?.slice(1).join(' ') ?? line} ${(Number(line.split(' ').pop()) / 2 ** 20).toFixed(0)}`)
        const ticks = (await readFile(`/proc/${proc.child.pid as number}/stat`, 'utf8')).split(') ')[1]?.split(' ').slice(11, 13).reduce((t, x) => t + Number(x), 0) ?? 0
        log(`  cpu ${((ticks - cpuTicks) / 100).toFixed(1)} s since the last sample; rss ${(m.rss / 2 ** 20).toFixed(0)} heapTotal ${(m.heapTotal / 2 ** 20).toFixed(0)} heapUsed ${(m.heapUsed / 2 ** 20).toFixed(0)} external ${(m.external / 2 ** 20).toFixed(0)} arrayBuffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB; history threads: ${threads.join(', ')}`)
        cpuTicks = ticks
      }
      const held = await parkedHeld(proc)
      const caughtUp = await groupCaughtUp(group, topic)
      steady = caughtUp && held === last && held > 0 ? steady + 1 : 0
      if (held !== last) log(`  ${held} parked held in memory${caughtUp ? ', source caught up' : ''}`)
      last = held
    }
    const parkSeconds = (Date.now() - produceFrom) / 1000
    const after = await sampleMemory(proc)
    const limit = cgroup === undefined ? undefined : 'unavailable' in cgroup ? { limitMib, unavailable: cgroup.unavailable } : { limitMib, peakBytes: await cgroup.peakBytes(), oomKills: await cgroup.oomKills() }
    // BENCH_BACKLOG_SMAPS=1: the dispatcher's largest mappings, to see where RSS sits (V8 pages, malloc arenas, the binary).
    if (process.env.BENCH_BACKLOG_SMAPS !== undefined) {
      const smaps = await readFile(`/proc/${proc.child.pid as number}/smaps`, 'utf8')
      const maps: Array<{ head: string, rss: number }> = []
      let head = ''
      for (const line of smaps.split('\n')) {
        if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) head = line
        const m = /^Rss:\s+(\d+) kB/.exec(line)
        if (m !== null) maps.push({ head, rss: Number(m[1]) })
      }
      maps.sort((x, y) => y.rss - x.rss)
      log(`smaps total ${maps.reduce((t, x) => t + x.rss, 0)} kB; largest:\n${maps.slice(0, 25).map((x) => `${x.rss} kB ${x.head}`).join('\n')}`)
    }
    const { peakRss } = parseProcStatus(await readFile(`/proc/${proc.child.pid as number}/status`, 'utf8'))
    if (snapshotDir !== undefined) await heapSnapshot(proc, snapshotDir)
    const admin = (await testKafka('bench-backlog')).admin()
    await admin.connect()
    const onRetryTopic = (await admin.fetchTopicOffsets(`${topic}.retry.${group}`)).reduce((n, p) => n + Number(p.high), 0)
    await admin.disconnect()
    const capPerPartition = config.retryCap ?? DEFAULT_RETRY_CAP
    const heldWithoutBytes = await sumMetric([proc.metricsUrl], 'webhooks_parked_without_bytes')
    const collections = await sumMetric([proc.metricsUrl], 'webhooks_memory_collections_total')
    const exitCode = await stop(proc)
    return { events: config.parkedEvents, before, after, peakRss, heldInMemory: last, heldWithoutBytes, collections, trackedPerPartition: DEFAULT_RETRY_TRACKED, onRetryTopic, cap: capPerPartition * config.partitions, capPerPartition, parkSeconds, produceSeconds, exitCode, ...(limit === undefined ? {} : { limit }) }
  } finally {
    if (alive(proc)) await stop(proc)
    if (limited !== undefined) await limited.remove()
  }
}

async function cleanup (registryUrl: string): Promise<void> {
  const admin = (await testKafka('bench-backlog-cleanup')).admin()
  await admin.connect()
  try {
    const ours = (await admin.listTopics()).filter((t) => t.includes(runId))
    if (ours.length > 0) await admin.deleteTopics({ topics: ours })
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(runId))
    await admin.deleteGroups(groups).catch(() => undefined)
    for (const t of ours) {
      const subject = `${registryUrl}/subjects/${encodeURIComponent(`${t}-value`)}`
      await fetch(subject, { method: 'DELETE' }).then(async (res) => { await res.body?.cancel() })
      await fetch(`${subject}?permanent=true`, { method: 'DELETE' }).then(async (res) => { await res.body?.cancel() })
    }
  } finally {
    await admin.disconnect()
  }
}

async function main (): Promise<number> {
  const config = loadBacklogConfig()
  const loadAtStart = await loadAverage()
  log(`load average ${loadAtStart}; ${JSON.stringify(config)}`)
  const { registryUrl } = await testStack()
  const secret = generateSecret()
  const down = await startDownEndpoint(config.downMode)
  const downUrl = down.url
  const feed = await createEventFeed()
  const receivers: BenchReceiver[] = []
  const rounds: IsolationRound[] = []
  let memory: MemoryResult | undefined
  const drain: DrainRun[] = []
  try {
    if (config.only === '' || config.only === 'isolation') {
      const topic = `bench-backlog-iso-${runId}`
      await (await createTestTopics([{ topic, numPartitions: config.partitions }])).admin.disconnect()
      const produced = await feed.publishTransactions(topic, { count: config.isolationEvents, accounts: Math.min(config.accounts, config.isolationEvents), batchSize: 2000 })
      log(`isolation: ${produced.length} events on ${topic}`)
      for (let i = 0; i <= config.healthy; i++) receivers.push(await startBenchReceiver(secret))
      const setup: IsolationSetup = { topic, produced, healthy: receivers.slice(0, config.healthy), spare: receivers[config.healthy] as BenchReceiver, secret, downUrl, config }
      for (let round = 1; round <= config.rounds; round++) {
        const withoutOutage = await isolationPhase(setup, false, round)
        const withOutage = await isolationPhase(setup, true, round)
        rounds.push({ withoutOutage, withOutage })
      }
      log(`isolation: ${(isolationRatio(rounds) * 100).toFixed(0)} % kept`)
    }
    if (config.only === '' || config.only === 'memory') memory = await memoryPhase(feed, downUrl, secret, config)
    if ((config.only === '' || config.only === 'drain') && config.drainEvents > 0) {
      for (let round = 1; round <= config.rounds; round++) {
        for (const withBytesPerPartition of [config.drainEvents, config.drainWithBytes]) {
          const run = await drainRun(feed, { events: config.drainEvents, partitions: config.partitions, accounts: config.accounts, withBytesPerPartition, budgetMs: config.budgetMs, runId, round })
          log(`drain round ${round}, ${withBytesPerPartition} with bytes per partition: ${run.delivered} in ${run.seconds.toFixed(1)} s (${run.withoutBytes} held without bytes), ${run.cpuMicrosPerDelivery.toFixed(0)} µs per delivery`)
          drain.push(run)
        }
      }
    }
  } finally {
    await Promise.all(receivers.map(async (r) => { await r.close() }))
    await feed.close()
    await down.close()
    await cleanup(registryUrl).catch((err: unknown) => { log(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`) })
  }
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    loadAtStart,
    loadAtEnd: await loadAverage(),
    durationSeconds: (Date.now() - startedAt) / 1000,
    config,
    downMode: downModeDescriptions[config.downMode],
    isolation: rounds,
    memory,
    drain
  }
  const markdown = renderBacklogMarkdown(result)
  await mkdir(dirname(config.resultsPath), { recursive: true })
  await writeFile(config.resultsPath, markdown)
  process.stdout.write(`${markdown}\n`)
  log(`written to ${config.resultsPath}`)
  const invalid = rounds.flatMap((r) => [r.withoutOutage, r.withOutage]).some((p) => phaseProblems(p).length > 0) || (memory !== undefined && memory.exitCode !== 0) ||
    drain.some((d) => d.delivered < d.events || d.missing + d.orderViolations + d.duplicates > 0)
  const missed = backlogVerdicts(result).filter((v) => v.met === false)
  if (missed.length > 0) log(`targets missed: ${missed.map((v) => `${v.target} (${v.measured})`).join('; ')}`)
  return invalid ? 1 : 0
}

main().then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
})
