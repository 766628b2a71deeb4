// One run of the real dispatcher process: a fresh consumer group drains the
// pre-produced backlog (throughput, first to last delivery, with every event
// accounted for), then a paced phase measures event-to-delivery latency
// below capacity.
import { randomUUID } from 'node:crypto'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { DatabaseSync } from 'node:sqlite'
import { join } from 'node:path'
import type { Kafka } from 'kafkajs'
import type { EventCodec } from '../../services/events/src/index.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import type { ReceivedWebhook } from '../support/webhook-receiver.js'
import { CpuWindow, type CpuUse } from './cpu.js'
import { pacedLatency, pacedRateFor, type Latency, type PacedRate } from './latency.js'
import { spawnDispatcher, stopDispatcher } from './dispatcher-spawn.js'
import { producePaced } from './paced-producer.js'
import { readProfile, summarizeProfile, type ProfileSummary } from './profile.js'
import type { BenchReceiver, Receipts, ReceiverStats } from './receiver.js'
import { rateOf, type Rate } from './stats.js'

export interface Completeness {
  expected: number
  missing: number
  unexpected: number
  duplicates: number
  orderViolations: number
}

export interface DispatcherRunResult {
  backlog: Rate
  completeness: Completeness
  receiver: Pick<ReceiverStats, 'maxInFlight' | 'connections' | 'verified' | 'badSignatures'>
  /** CPU during the backlog, from the first delivery on. */
  cpu: CpuUse
  /** CPU past the warm-up (the first WARMUP_SHARE of the backlog's deliveries): what each further delivery costs. */
  steadyCpu: CpuUse
  paced: {
    ratePerSecond: number
    events: number
    completeness: Completeness
    /** Kafka acknowledgement of the produce → receipt at the endpoint, ms. */
    fromAck: Latency
    /** Start of the produce request → receipt, ms. */
    fromSend: Latency
    /** Start of the produce request → its acknowledgement: the producer's share, ms. */
    sendToAck: Latency
  } | undefined
  profile: ProfileSummary | undefined
  /** Exit code after the closing SIGTERM (0 = clean shutdown). */
  exitCode: number | null
  /** Set when the process died before the backlog was delivered. */
  exitedEarly: string | undefined
}

export interface DispatcherRunOptions {
  kafka: Kafka
  codec: Pick<EventCodec, 'encode'>
  topic: string
  deadLetterTopic: string
  groupId: string
  subscriptionsFile: string
  tenantId: string
  maxInFlight: number
  receiver: BenchReceiver
  produced: readonly ProducedEvent[]
  budgetMs: number
  /**
   * The latency phase, on `topic`: an empty topic of this run only, which
   * the dispatcher consumes beside the backlog. Skipped when undefined.
   */
  paced: { topic: string, rate: PacedRate, seconds: number } | undefined
  profile: boolean
  /** More environment for the dispatcher (history on or off, …). */
  env?: Record<string, string>
  signal: AbortSignal
  log: (line: string) => void
}

/** Completeness and order of first receipts, judged by the shared test oracle. */
export function judge (produced: readonly ProducedEvent[], tenantId: string, receipts: Receipts): Completeness {
  const byId = new Map(produced.map((e) => [e.eventId, e]))
  const accepted: ReceivedWebhook[] = []
  let unexpected = 0
  receipts.ids.forEach((webhookId, i) => {
    const event = byId.get(webhookId)
    if (event === undefined) {
      unexpected++
      return
    }
    accepted.push({
      webhookId,
      type: event.eventType,
      accountId: event.accountId,
      accountSequence: event.accountSequence,
      body: {},
      receivedAt: receipts.at[i] as number,
      status: 204
    })
  })
  const report = checkDeliveries(produced, [{ id: 'bench', tenantId, matches: () => true, accepted }])
  return {
    expected: report.expected,
    missing: report.missing.length,
    unexpected: unexpected + report.unexpected.length,
    duplicates: report.duplicates,
    orderViolations: report.orderViolations.length
  }
}

async function waitForDistinct (
  receiver: BenchReceiver, expected: number, deadline: number,
  { signal, child, onProgress }: { signal: AbortSignal, child: ChildProcess, onProgress?: (stats: ReceiverStats) => void }
): Promise<ReceiverStats> {
  for (;;) {
    const stats = await receiver.stats()
    if (stats.firstAt !== undefined) onProgress?.(stats)
    const over = Date.now() >= deadline || signal.aborted || child.exitCode !== null || child.signalCode !== null
    if (stats.distinct >= expected || over) return stats
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/**
 * Resolves once the SQLite index at `path` holds `records` rows: the indexer
 * thread follows the deliveries by up to its fetch wait, longer on a busy
 * machine (it runs at a lower priority), and its CPU counts until then.
 */
export async function indexCaughtUp (path: string, records: number): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    try {
      const db = new DatabaseSync(path, { readOnly: true })
      try {
        if (Number((db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n) >= records) return
      } finally {
        db.close()
      }
    } catch {
      // Not created yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the history index at ${path} did not reach ${records} rows in 120 s`)
}

/**
 * Share of a backlog's deliveries the steady-state CPU window leaves out.
 * A fresh process spends its first seconds compiling: V8's background
 * compiler threads, and the delivery thread running code not yet
 * optimised. On a 40,000-event W1 run that is about 15 µs per delivery
 * (bench/results.md), paid once per process, not per delivery.
 */
const WARMUP_SHARE = 0.25

export async function runDispatcher (options: DispatcherRunOptions, receiverDelayMs: number): Promise<DispatcherRunResult> {
  const { receiver, produced, signal, log } = options
  await receiver.reset(receiverDelayMs)
  const profileDir = options.profile ? await mkdtemp(join(tmpdir(), 'whd-bench-prof-')) : undefined
  const startedAt = Date.now()
  const env: Record<string, string> = { HISTORY_SQLITE_PATH: join(tmpdir(), 'whd-bench-history', `${randomUUID()}.sqlite`), ...options.env }
  // With the SQLite index (the default), the indexer thread's work counts too.
  const indexPath = (env.HISTORY_ENABLED ?? 'true') !== 'false' && (env.HISTORY_STORE ?? 'sqlite') === 'sqlite' ? env.HISTORY_SQLITE_PATH : undefined
  const spawned = await spawnDispatcher({
    SOURCE_TOPICS: options.paced === undefined ? options.topic : `${options.topic},${options.paced.topic}`,
    DEAD_LETTER_TOPIC: options.deadLetterTopic,
    KAFKA_GROUP_ID: options.groupId,
    SUBSCRIPTIONS_FILE: options.subscriptionsFile,
    // One endpoint takes all the load, so its cap is the global one.
    MAX_IN_FLIGHT: String(options.maxInFlight),
    ENDPOINT_MAX_IN_FLIGHT: String(options.maxInFlight),
    ...env
  }, profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])
  let exitCode: number | null = null
  let exitedEarly: string | undefined
  try {
    const pid = spawned.child.pid as number
    let cpu: { window: CpuWindow, from: number } | undefined
    let steady: { window: CpuWindow, from: number } | undefined
    const expected = produced.length
    const stats = await waitForDistinct(receiver, expected, startedAt + options.budgetMs, {
      signal,
      child: spawned.child,
      onProgress: (now) => {
        cpu ??= { window: new CpuWindow({ sender: pid, receiver: receiver.pid }), from: now.distinct }
        if (now.distinct >= expected * WARMUP_SHARE && now.distinct < expected) steady ??= { window: new CpuWindow({ sender: pid, receiver: receiver.pid }), from: now.distinct }
      }
    })
    if (indexPath !== undefined && stats.distinct >= expected) await indexCaughtUp(indexPath, expected)
    const unmeasured: CpuUse = { senderCores: Number.NaN, receiverCores: Number.NaN, machineCores: Number.NaN, senderUsPerItem: Number.NaN }
    const cpuUsed = cpu?.window.end(stats.distinct - cpu.from) ?? unmeasured
    const steadyCpuUsed = steady?.window.end(stats.distinct - steady.from) ?? unmeasured
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) {
      exitedEarly = `exited with ${spawned.child.exitCode ?? spawned.child.signalCode} during the backlog`
      log(`  dispatcher ${exitedEarly}; output tail:\n${spawned.output().slice(-4000)}`)
    }
    const backlog = rateOf(stats.distinct, stats.firstAt, stats.lastAt, stats.distinct >= expected)
    const completeness = judge(produced, options.tenantId, await receiver.receipts())
    log(`  backlog: ${stats.distinct}/${expected} in ${(((stats.lastAt ?? 0) - (stats.firstAt ?? 0)) / 1000).toFixed(1)} s → ${backlog.perSecond.toFixed(0)}/s`)

    let paced: DispatcherRunResult['paced']
    const pacing = options.paced
    if (pacing !== undefined && backlog.complete && exitedEarly === undefined && !signal.aborted) {
      const ratePerSecond = pacedRateFor(pacing.rate, backlog.perSecond)
      log(`  paced: ${ratePerSecond}/s for ${pacing.seconds} s`)
      const events = await producePaced({
        kafka: options.kafka,
        codec: options.codec,
        topic: pacing.topic,
        tenantId: options.tenantId,
        ratePerSecond,
        seconds: pacing.seconds,
        signal
      })
      await waitForDistinct(receiver, expected + events.length, Date.now() + 60_000, { signal, child: spawned.child })
      const receipts = await receiver.receipts()
      const pacedIds = new Set(events.map((e) => e.eventId))
      const pacedReceipts = { ids: [] as string[], at: [] as number[] }
      receipts.ids.forEach((id, i) => {
        if (pacedIds.has(id)) {
          pacedReceipts.ids.push(id)
          pacedReceipts.at.push(receipts.at[i] as number)
        }
      })
      paced = {
        ratePerSecond,
        events: events.length,
        completeness: judge(events, options.tenantId, pacedReceipts),
        ...pacedLatency(events, pacedReceipts)
      }
    }
    const final = await receiver.stats()
    exitCode = await stopDispatcher(spawned)
    if (exitCode !== 0 && exitedEarly === undefined) {
      log(`  dispatcher exited with ${String(exitCode)} after SIGTERM; output tail:\n${spawned.output().slice(-4000)}`)
    }
    const profile = profileDir === undefined ? undefined : await readProfile(profileDir)
    // BENCH_KEEP_PROFILES: keep every thread's profile (the history threads write their own) for a closer look.
    if (profileDir !== undefined && process.env.BENCH_KEEP_PROFILES === undefined) await rm(profileDir, { recursive: true, force: true })
    if (profileDir !== undefined && process.env.BENCH_KEEP_PROFILES !== undefined) log(`  CPU profiles kept in ${profileDir}`)
    return {
      backlog,
      completeness,
      receiver: { maxInFlight: final.maxInFlight, connections: final.connections, verified: final.verified, badSignatures: final.badSignatures },
      cpu: cpuUsed,
      steadyCpu: steadyCpuUsed,
      paced,
      profile: profile === undefined ? undefined : summarizeProfile(profile),
      exitCode,
      exitedEarly
    }
  } catch (err) {
    log(`  dispatcher output (tail):\n${spawned.output().slice(-3000)}`)
    throw err
  } finally {
    if (spawned.child.exitCode === null) await stopDispatcher(spawned)
  }
}
