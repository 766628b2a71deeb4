// The two raw ceilings (DESIGN §9) and one diagnostic, each bounded in count
// and time:
// A  consume-and-decode: a kafkajs group reads the topic and decodes every
//    record through the registry codec; no HTTP;
// B  HTTP POST: signed POSTs of the same bodies with undici at the
//    dispatcher's MAX_IN_FLIGHT concurrency; no Kafka;
// D  the dispatcher's own HTTP deliverer (createHttpDeliverer, as main.ts
//    wires it) at the same concurrency: signing, timers and pool included,
//    no Kafka and no engine.
import { Agent } from 'undici'
import type { Kafka } from 'kafkajs'
import type { EventCodec } from '../../services/events/src/index.js'
import { createHttpDeliverer } from '../../services/dispatcher/src/delivery/http-deliverer.js'
import { toWebhookBody } from '../../services/dispatcher/src/delivery/payload.js'
import { signWebhook, webhookHeaders } from '../../services/dispatcher/src/delivery/sign.js'
import { asDecodedEvent } from '../../services/dispatcher/src/kafka/decode.js'
import { CpuWindow, type CpuUse } from './cpu.js'
import type { BenchReceiver } from './receiver.js'
import { rateOf, type Rate } from './stats.js'

/** One webhook to send: the event id and the JSON body the dispatcher would sign. */
export interface WebhookBody {
  id: string
  body: string
}

export async function measureConsumeDecode (options: {
  kafka: Kafka
  topic: string
  groupId: string
  partitions: number
  expected: number
  codec: Pick<EventCodec, 'decode'>
  budgetMs: number
  signal: AbortSignal
}): Promise<{ rate: Rate, bodies: WebhookBody[] }> {
  const { kafka, topic, groupId, expected, codec } = options
  // The dispatcher's consumer settings, so the fetch path is the same.
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 250 })
  const events: unknown[] = []
  let lastAt: number | undefined
  let failure: unknown
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => { done = resolve })
  // The window opens when the group is joined, so the first fetch counts:
  // a whole small backlog can arrive in one fetch, and decoding alone would
  // then be all that is timed.
  let joinedAt: number | undefined
  consumer.on(consumer.events.GROUP_JOIN, () => { joinedAt ??= Date.now() })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: options.partitions,
      eachBatch: async ({ batch, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || events.length >= expected) return
          try {
            const decoded = await codec.decode(message.value)
            events.push(decoded.event)
          } catch (err) {
            failure = err
            done()
            return
          }
          lastAt = Date.now()
          if (events.length >= expected) done()
        }
      }
    })
    await waitFor(finished, options.budgetMs, options.signal)
  } finally {
    await consumer.disconnect()
  }
  if (failure !== undefined) throw new Error(`consume-and-decode ceiling: a record did not decode: ${String(failure)}`)
  const bodies = events.map((value) => {
    const event = asDecodedEvent(value)
    return { id: event.eventId, body: toWebhookBody(event) }
  })
  return { rate: rateOf(events.length, joinedAt, lastAt, events.length >= expected), bodies }
}

export interface PostResult {
  rate: Rate
  failures: number
  cpu: CpuUse
}

/** Ceiling B: signed POSTs with a plain undici Agent, `concurrency` at a time. */
export async function measureHttpPost (options: {
  receiver: BenchReceiver
  bodies: readonly WebhookBody[]
  secret: string
  concurrency: number
  budgetMs: number
  signal: AbortSignal
}): Promise<PostResult> {
  const { receiver, secret } = options
  const url = new URL(options.receiver.url)
  // No connection limit: one socket per concurrent request, as many as the
  // concurrency asks for.
  const agent = new Agent({ pipelining: 1, keepAliveTimeout: 60_000 })
  try {
    return await drive(options, async ({ id, body }) => {
      const timestampSeconds = Math.floor(Date.now() / 1000)
      const signature = signWebhook({ id, timestampSeconds, body, secrets: [secret] })
      const response = await agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...webhookHeaders({ id, timestampSeconds, signature }) },
        body
      })
      await response.body.dump()
      return response.statusCode >= 200 && response.statusCode < 300
    }, receiver)
  } finally {
    await agent.close()
  }
}

/** Diagnostic D: the dispatcher's own deliverer, configured as main.ts configures it. */
export async function measureDeliverer (options: {
  receiver: BenchReceiver
  bodies: readonly WebhookBody[]
  secret: string
  concurrency: number
  budgetMs: number
  signal: AbortSignal
}): Promise<PostResult> {
  // As main.ts builds it and the engine uses it: the endpoint's own pool is
  // as wide as its cap, which the benchmark sets to the concurrency.
  const deliverer = createHttpDeliverer({ connectTimeoutMs: 5_000, attemptTimeoutMs: 15_000, connectionsPerOrigin: options.concurrency, version: 'bench' })
  const pool = { id: 'bench-endpoint', connections: options.concurrency }
  try {
    return await drive(options, async ({ id, body }) => {
      const result = await deliverer.deliver({ url: options.receiver.url, webhookId: id, body, secrets: [options.secret], pool })
      return result.kind === 'response' && result.status >= 200 && result.status < 300
    }, options.receiver)
  } finally {
    await deliverer.close()
  }
}

/**
 * Sends every body once, `concurrency` at a time, until all are sent or the
 * budget (from the first send) is over; the rate is the receiver's.
 */
async function drive (
  options: { bodies: readonly WebhookBody[], concurrency: number, budgetMs: number, signal: AbortSignal },
  send: (item: WebhookBody) => Promise<boolean>,
  receiver: BenchReceiver
): Promise<PostResult> {
  const { bodies, signal } = options
  const deadline = Date.now() + options.budgetMs
  const cpu = new CpuWindow({ sender: process.pid, receiver: receiver.pid })
  let next = 0
  let failures = 0
  const worker = async (): Promise<void> => {
    while (next < bodies.length && Date.now() < deadline && !signal.aborted) {
      const item = bodies[next++] as WebhookBody
      const ok = await send(item).catch(() => false)
      if (!ok) failures++
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency, bodies.length) }, worker))
  const stats = await receiver.stats()
  return { rate: rateOf(stats.distinct, stats.firstAt, stats.lastAt, stats.distinct === bodies.length), failures, cpu: cpu.end(stats.distinct) }
}

/** Resolves when `finished` does, or when the budget is over or the run is aborted. */
export async function waitFor (finished: Promise<void>, budgetMs: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    await Promise.race([
      finished,
      new Promise<void>((resolve) => { timer = setTimeout(resolve, budgetMs) }),
      new Promise<void>((resolve) => {
        onAbort = () => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
