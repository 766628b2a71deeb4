// Scale-out: the same W2 backlog through 1, then 2 dispatcher processes in
// one consumer group. Each instance is capped low enough (MAX_IN_FLIGHT ÷
// receiver latency) to be latency-bound, far below the HTTP ceiling and the
// receiver's capacity, so a second instance can double the rate. The events
// are encoded first and produced only once every instance holds partitions:
// the whole window then has every instance delivering, with no rebalance in
// it, and production (batches of 500) runs far ahead of delivery.
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kafka } from 'kafkajs'
import type { EventFeed } from '../support/event-feed.js'
import { CpuWindow } from './cpu.js'
import { judge, type Completeness } from './dispatcher-run.js'
import { hasExited, spawnDispatcher, stopDispatcher, type SpawnedDispatcher } from './dispatcher-spawn.js'
import { waitForMembers } from './group-members.js'
import type { BenchReceiver } from './receiver.js'
import { rateOf, type Rate } from './stats.js'

export interface ScaleOutRun {
  instances: number
  /** Deliveries/s at the receiver, first to last. */
  rate: Rate
  completeness: Completeness
  verified: number
  badSignatures: number
  /** Most requests open at the receiver at once: instances × MAX_IN_FLIGHT when latency-bound. */
  receiverMaxInFlight: number
  /** Cores busy over the delivering window: each instance, the receiver, the machine. */
  instanceCores: number[]
  receiverCores: number
  machineCores: number
  /** Partitions of the source topic each instance held when producing started. */
  partitions: number[]
  exitCodes: Array<number | null>
  exitedEarly: string | undefined
}

export interface ScaleOutResult {
  maxInFlight: number
  receiverDelayMs: number
  events: number
  /** Settings every instance ran with beyond the defaults and the in-flight caps. */
  env: Record<string, string>
  runs: ScaleOutRun[]
  /** Why a run could not be measured (an instance never joined, …); the figure is then missing. */
  failed: string | undefined
}

export interface ScaleOutOptions {
  kafka: Kafka
  feed: Pick<EventFeed, 'prepareTransactions'>
  topic: string
  deadLetterTopic: string
  groupId: string
  subscriptionsFile: string
  tenantId: string
  maxInFlight: number
  receiver: BenchReceiver
  receiverDelayMs: number
  events: number
  accounts: number
  instances: number
  budgetMs: number
  /** More environment for every instance. */
  env?: Record<string, string>
  signal: AbortSignal
  log: (line: string) => void
}

const BATCH = 500

export async function measureScaleOut (options: ScaleOutOptions): Promise<ScaleOutRun> {
  const { kafka, receiver, topic, instances, log } = options
  const prepared = await options.feed.prepareTransactions(topic, { count: options.events, accounts: options.accounts, tenants: 1 })
  const produced = prepared.map((p) => p.produced)
  await receiver.reset(options.receiverDelayMs)
  const admin = kafka.admin()
  await admin.connect()
  const spawned: SpawnedDispatcher[] = []
  let exitedEarly: string | undefined
  try {
    for (let i = 0; i < instances; i++) {
      spawned.push(await spawnDispatcher({
        SOURCE_TOPICS: topic,
        DEAD_LETTER_TOPIC: options.deadLetterTopic,
        KAFKA_GROUP_ID: options.groupId,
        SUBSCRIPTIONS_FILE: options.subscriptionsFile,
        MAX_IN_FLIGHT: String(options.maxInFlight),
        ENDPOINT_MAX_IN_FLIGHT: String(options.maxInFlight),
        HISTORY_SQLITE_PATH: join(tmpdir(), 'whd-bench-history', `${randomUUID()}.sqlite`),
        ...options.env
      }))
    }
    const partitions = await waitForMembers(admin, options.groupId, topic, instances, Date.now() + 60_000)
    log(`  ${instances} instance(s) in the group, holding ${partitions.join(' + ')} partitions; producing ${produced.length} events`)

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      for (let start = 0; start < prepared.length; start += BATCH) {
        await producer.send({ topic, acks: -1, messages: prepared.slice(start, start + BATCH).map((p) => p.message) })
      }
    } finally {
      await producer.disconnect()
    }

    let windows: CpuWindow[] | undefined
    const deadline = Date.now() + options.budgetMs
    let stats = await receiver.stats()
    for (;;) {
      if (stats.firstAt !== undefined) windows ??= spawned.map((s) => new CpuWindow({ sender: s.child.pid as number, receiver: receiver.pid }))
      const died = spawned.findIndex(hasExited)
      if (died >= 0) {
        exitedEarly = `instance ${died + 1} exited with ${spawned[died]?.child.exitCode ?? spawned[died]?.child.signalCode} during the backlog`
        log(`  ${exitedEarly}; output tail:\n${spawned[died]?.output().slice(-4000) ?? ''}`)
        break
      }
      if (stats.distinct >= produced.length || Date.now() > deadline || options.signal.aborted) break
      await new Promise((resolve) => setTimeout(resolve, 250))
      stats = await receiver.stats()
    }
    const cpu = windows?.map((w) => w.end(stats.distinct))
    const rate = rateOf(stats.distinct, stats.firstAt, stats.lastAt, stats.distinct >= produced.length)
    log(`  ${instances} instance(s): ${stats.distinct}/${produced.length} → ${rate.perSecond.toFixed(0)}/s`)
    const completeness = judge(produced, options.tenantId, await receiver.receipts())
    const exitCodes = await Promise.all(spawned.splice(0).map(stopDispatcher))
    return {
      instances,
      rate,
      completeness,
      verified: stats.verified,
      badSignatures: stats.badSignatures,
      receiverMaxInFlight: stats.maxInFlight,
      instanceCores: cpu?.map((c) => c.senderCores) ?? [],
      receiverCores: cpu?.[0]?.receiverCores ?? Number.NaN,
      machineCores: cpu?.[0]?.machineCores ?? Number.NaN,
      partitions,
      exitCodes,
      exitedEarly
    }
  } finally {
    await Promise.all(spawned.map(stopDispatcher))
    await admin.disconnect()
  }
}
