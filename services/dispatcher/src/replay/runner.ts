// Runs one replay job (DESIGN §11): reads its ranges of the source topics
// from its checkpoints, keeps the events of the endpoint's tenant and filter,
// and delivers them with their original webhook-id — in order per account,
// at most `maxInFlight` at once (the job's own budget, apart from live
// traffic's MAX_IN_FLIGHT), at the endpoint's rate limit. A failed delivery
// is parked on the source partition's retry topic like a failed live one, so
// the normal retry and dead-letter rules take it from there; later events of
// its account in this job are parked behind it unattempted (order kept).
//
// Checkpoints: a chunk of at most CHUNK records of one partition is scanned,
// every matching event settled (delivered or its park acknowledged), then
// the job's record is written with `next` past the chunk. A crash redelivers
// at most the chunk in progress per job (C4 bounds), and skips nothing.
import { randomUUID } from 'node:crypto'
import type { CompressionTypes, Kafka, KafkaMessage, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { toWebhookBody } from '../delivery/payload.js'
import type { Deliverer } from '../delivery/types.js'
import { resultFields, type AttemptEntry, type AttemptRecorder } from '../engine/attempt-log.js'
import { newDeliveryTask, type DecodedEvent } from '../engine/delivery-task.js'
import { toParkedRecord } from '../engine/parked-record.js'
import type { RateLimiter } from '../engine/rate-limiter.js'
import type { RecordDecoder } from '../engine/record-plan.js'
import { replayDone, replayMatches, type ReplayJob, type ReplayRange } from '../engine/replay-job.js'
import type { Metrics } from '../metrics.js'
import type { Subscription, SubscriptionSource } from '../subscriptions/types.js'
import { writeReplayJob } from './jobs-topic.js'

/** Records per checkpoint: also the most a crash can redeliver per job. */
export const CHUNK = 200
const PAUSED_POLL_MS = 500

export interface ReplayRunnerDeps {
  kafka: Kafka
  producer: Producer
  jobsTopic: string
  compression?: CompressionTypes
  decode: RecordDecoder
  subscriptions: SubscriptionSource
  deliver: Deliverer
  deliveryTimeoutMs: number
  /** With `flush`: a checkpoint waits until the attempts it settles are on the attempts topic (as commits do, DESIGN §10). */
  history: (AttemptRecorder & { flush?: () => Promise<void> }) | undefined
  retryTopicOf: (sourceTopic: string) => string
  /** onlyFailed: the ids of the events the endpoint has had delivered (from the history). */
  deliveredIds: (job: ReplayJob) => Promise<Pick<ReadonlySet<string>, 'has'>>
  /** The endpoints' rate-limit buckets, shared with live traffic: a replay and live deliveries together keep to the endpoint's rate. */
  rateLimiter: RateLimiter
  /** REPLAY_MAX_IN_FLIGHT. */
  maxInFlight: number
  /** ENDPOINT_MAX_IN_FLIGHT: the cap of an endpoint that sets none of its own. */
  endpointMaxInFlight: number
  metrics: Pick<Metrics, 'replayScanned' | 'replayDeliveries'>
  now: () => number
  log: Logger
}

/**
 * Deliveries one job runs at once to its endpoint: its own budget
 * (REPLAY_MAX_IN_FLIGHT), lowered by the endpoint's cap, its own or, when it
 * sets none, ENDPOINT_MAX_IN_FLIGHT, which live traffic keeps to as well.
 */
export function replayWidth (limits: { maxInFlight: number, endpointMaxInFlight: number }, subscription: Pick<Subscription, 'maxInFlight'>): number {
  return Math.max(1, Math.min(limits.maxInFlight, subscription.maxInFlight ?? limits.endpointMaxInFlight))
}

interface Matched { event: DecodedEvent, message: KafkaMessage, offset: bigint }

const sleep = async (ms: number, signal: AbortSignal): Promise<void> => await new Promise((resolve) => {
  if (signal.aborted) {
    resolve()
    return
  }
  const timer = setTimeout(resolve, ms)
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
})

/**
 * Runs `job` until it is done, `signal` aborts it (cancelled, or this
 * instance no longer owns the jobs), or its endpoint goes away. Resolves
 * with the job's last state, written to the jobs topic.
 */
export async function runReplayJob (deps: ReplayRunnerDeps, initial: ReplayJob, signal: AbortSignal): Promise<ReplayJob> {
  const job: ReplayJob = structuredClone(initial)
  const log = deps.log.child({ replayId: job.id, endpointId: job.endpointId })
  const save = async (): Promise<void> => {
    await deps.history?.flush?.()
    job.updatedAt = deps.now()
    await writeReplayJob(deps.producer, deps.jobsTopic, job, deps.compression)
  }
  const finish = async (state: ReplayJob['state'], reason?: string): Promise<ReplayJob> => {
    job.state = state
    job.finishedAt = deps.now()
    if (reason !== undefined) job.reason = reason
    await save()
    log.info({ state, reason, counts: job.counts }, 'replay finished')
    return job
  }
  if (replayDone(job)) return await finish('completed')
  const delivered = job.onlyFailed ? await deps.deliveredIds(job) : new Set<string>()
  const limiter = deps.rateLimiter
  // Accounts with a parked event in this job: the rest of their events park behind it.
  const blocked = new Set<string>()
  const ranges = new Map<string, ReplayRange>(job.ranges.map((r) => [`${r.topic}:${r.partition}`, r]))
  const topics = [...new Set(job.ranges.map((r) => r.topic))]

  const endpointNow = async (): Promise<Subscription | 'gone'> => {
    for (;;) {
      const subscription = deps.subscriptions.get(job.endpointId)
      if (subscription === undefined || !subscription.enabled || subscription.tenantId !== job.tenantId) return 'gone'
      // Paused: wait, like the live lanes; nothing is scanned meanwhile.
      if (subscription.paused !== true || signal.aborted) return subscription
      await sleep(PAUSED_POLL_MS, signal)
    }
  }

  const record = (entry: Omit<AttemptEntry, 'attemptId' | 'lane'>): void => {
    deps.history?.record({ ...entry, attemptId: randomUUID(), lane: 'replay' })
  }

  const widthFor = (subscription: Subscription): number => replayWidth(deps, subscription)

  const settle = async (subscription: Subscription, topic: string, partition: number, item: Matched): Promise<void> => {
    const { event, message, offset } = item
    const task = newDeliveryTask(event, subscription.id, toWebhookBody(event), { topic, partition, offset }, {
      key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: Number(message.timestamp)
    })
    const base = {
      eventId: task.webhookId, eventType: task.eventType, tenantId: task.tenantId, subscriptionId: subscription.id, accountId: task.accountId,
      occurredAt: task.occurredAt, sourceTopic: topic, sourcePartition: partition, sourceOffset: offset
    }
    const park = async (): Promise<void> => {
      const now = deps.now()
      task.firstFailureAt ??= now
      await deps.producer.send({ topic: deps.retryTopicOf(topic), acks: -1, compression: deps.compression, messages: [{ ...toParkedRecord(task, now), partition }] })
      record({ ...base, attemptNumber: task.attempts, kind: 'outcome', outcome: 'parked', startedAt: now, ...(task.lastError === undefined ? {} : { errorCode: task.lastError }) })
      blocked.add(task.accountId)
      job.counts.failed++
      deps.metrics.replayDeliveries.inc({ outcome: 'parked' })
    }
    if (blocked.has(task.accountId)) {
      task.lastError = 'behind-parked'
      await park()
      return
    }
    const rate = subscription.rateLimitPerSecond
    if (rate !== undefined) {
      for (let take = limiter.tryTake(subscription.id, rate, deps.now()); !take.ok; take = limiter.tryTake(subscription.id, rate, deps.now())) {
        await sleep(take.retryAt - deps.now(), signal)
        if (signal.aborted) return
      }
    }
    const startedAt = deps.now()
    // A pool of the job's own, beside the endpoint's live pool: the replay
    // can neither take live traffic's sockets nor wait behind them.
    const pool = { id: `${subscription.id}/replay/${job.id}`, connections: widthFor(subscription) }
    const result = await deps.deliver({ url: subscription.url, webhookId: task.webhookId, body: task.body, secrets: subscription.secrets, tls: subscription.tls, timeoutMs: deps.deliveryTimeoutMs, pool, signal })
    // Stopped mid-attempt (cancelled, shutdown, no longer ours): not an
    // attempt the endpoint failed, so nothing is recorded or parked; the
    // chunk is not checkpointed and whoever resumes the job redoes it.
    if (signal.aborted) return
    task.attempts++
    const ok = result.kind === 'response' && result.status >= 200 && result.status < 300
    record({
      ...base, attemptNumber: task.attempts, kind: 'attempt', outcome: ok ? 'delivered' : 'failed', startedAt, durationMs: Math.round(result.durationMs),
      ...resultFields(result)
    })
    if (ok) {
      job.counts.delivered++
      deps.metrics.replayDeliveries.inc({ outcome: 'delivered' })
      return
    }
    if (result.kind === 'response') {
      task.lastStatus = result.status
      task.lastError = `HTTP ${result.status}`
    } else {
      task.lastError = result.code
    }
    await park()
  }

  /** Delivers a chunk's matches: accounts side by side (at most the budget), each account's in offset order. */
  const deliverChunk = async (subscription: Subscription, topic: string, partition: number, items: Matched[]): Promise<void> => {
    const byAccount = new Map<string, Matched[]>()
    for (const item of items) {
      const list = byAccount.get(item.event.accountId) ?? []
      list.push(item)
      byAccount.set(item.event.accountId, list)
    }
    const queues = [...byAccount.values()]
    const width = widthFor(subscription)
    let nextQueue = 0
    await Promise.all(Array.from({ length: Math.min(width, queues.length) }, async () => {
      for (let q = queues[nextQueue++]; q !== undefined; q = queues[nextQueue++]) {
        for (const item of q) {
          // Stopped (cancelled, or no longer ours): the chunk is not checkpointed, so whoever resumes redoes it.
          if (signal.aborted) return
          await settle(subscription, topic, partition, item)
        }
      }
    }))
  }

  const groupId = `whd-replay-${job.id}-${randomUUID()}`
  const consumer = deps.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250, maxBytesPerPartition: 256 * 1024 })
  let outcome: { state: ReplayJob['state'], reason?: string } | undefined
  try {
    await consumer.connect()
    await consumer.subscribe({ topics, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const stopIfDone = (): void => { if (replayDone(job) || outcome !== undefined) resolve() }
      signal.addEventListener('abort', () => resolve(), { once: true })
      consumer.on(consumer.events.CRASH, (event) => { reject(event.payload.error) })
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Offsets are resolved as the job's checkpoints pass them: kafkajs
        // fetches from the last resolved offset, so a batch never resolved
        // is fetched again and again (a range longer than one fetch stalled).
        eachBatch: async ({ batch, heartbeat, isRunning, resolveOffset }) => {
          const range = ranges.get(`${batch.topic}:${batch.partition}`)
          if (range === undefined) return
          const end = BigInt(range.end)
          let pending = batch.messages.filter((m) => BigInt(m.offset) >= BigInt(range.next) && BigInt(m.offset) < end)
          while (pending.length > 0 && isRunning() && !signal.aborted && outcome === undefined) {
            const chunk = pending.slice(0, CHUNK)
            pending = pending.slice(CHUNK)
            const subscription = await endpointNow()
            if (subscription === 'gone') {
              outcome = { state: 'cancelled', reason: 'endpoint-disabled-or-deleted' }
              break
            }
            if (signal.aborted) break
            const matched: Matched[] = []
            for (const message of chunk) {
              job.counts.scanned++
              deps.metrics.replayScanned.inc()
              // Undecodable records were dead-lettered by the live lane (C5); a replay skips them.
              const event = await deps.decode(message.value).catch(() => undefined)
              if (event === undefined || !replayMatches(job, subscription.eventTypes, event, delivered)) continue
              job.counts.matched++
              matched.push({ event, message, offset: BigInt(message.offset) })
            }
            await deliverChunk(subscription, batch.topic, batch.partition, matched)
            if (signal.aborted) break
            const last = (chunk.at(-1) as KafkaMessage).offset
            range.next = (BigInt(last) + 1n).toString()
            await save()
            resolveOffset(last)
            await heartbeat()
          }
          // Records before the checkpoint (read again after a seek) or past the range's end: nothing to do with them.
          if (pending.length === 0 && !signal.aborted && outcome === undefined) resolveOffset(batch.lastOffset())
          // Past the range's last record (a gap before `end`: compaction, a transaction marker): done.
          const beyond = batch.messages.some((m) => BigInt(m.offset) >= end) || (batch.messages.length > 0 && BigInt(batch.lastOffset()) + 1n >= end)
          if (outcome === undefined && !signal.aborted && pending.length === 0 && beyond && BigInt(range.next) < end) {
            range.next = range.end
            await save()
          }
          if (BigInt(range.next) >= end) consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }])
          stopIfDone()
        }
      }).then(() => {
        for (const r of job.ranges) {
          if (BigInt(r.next) >= BigInt(r.end)) consumer.pause([{ topic: r.topic, partitions: [r.partition] }])
          else consumer.seek({ topic: r.topic, partition: r.partition, offset: r.next })
        }
      }, reject)
    })
  } finally {
    await consumer.disconnect().catch(() => undefined)
    const admin = deps.kafka.admin()
    await admin.connect().then(async () => { await admin.deleteGroups([groupId]) }).catch(() => undefined).finally(() => { void admin.disconnect() })
  }
  if (outcome !== undefined) return await finish(outcome.state, outcome.reason)
  if (replayDone(job)) return await finish('completed')
  // Aborted: the coordinator says why (cancelled, or no longer this instance's to run).
  return job
}
