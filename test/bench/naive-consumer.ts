// The baseline the dispatcher is compared with: the consumer most services
// start with. One record at a time per partition (kafkajs eachMessage, all
// partitions concurrently), decode, sign, POST, and only then let kafkajs
// resolve the offset (committed after the batch). Its ceiling is
// partitions / endpoint latency (DESIGN §9).
import { Agent } from 'undici'
import type { Kafka } from 'kafkajs'
import type { EventCodec } from '../../services/events/src/index.js'
import { toWebhookBody } from '../../services/dispatcher/src/delivery/payload.js'
import { signWebhook, webhookHeaders } from '../../services/dispatcher/src/delivery/sign.js'
import { asDecodedEvent } from '../../services/dispatcher/src/kafka/decode.js'
import { CpuWindow, type CpuUse } from './cpu.js'
import type { BenchReceiver } from './receiver.js'
import { rateOf, type Rate } from './stats.js'

export async function measureNaive (options: {
  kafka: Kafka
  topic: string
  groupId: string
  partitions: number
  expected: number
  codec: Pick<EventCodec, 'decode'>
  receiver: BenchReceiver
  secret: string
  /** Measuring window from the first delivery. */
  budgetMs: number
  signal: AbortSignal
}): Promise<{ rate: Rate, cpu: CpuUse }> {
  const { kafka, receiver, secret, codec } = options
  const url = new URL(receiver.url)
  const agent = new Agent({ pipelining: 1, keepAliveTimeout: 60_000 })
  const consumer = kafka.consumer({ groupId: options.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 250 })
  let stopping = false
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true })
    await consumer.run({
      partitionsConsumedConcurrently: options.partitions,
      eachMessage: async ({ message }) => {
        // Past the window: let the consumer wind down; this group is thrown away.
        if (stopping) return
        const event = asDecodedEvent((await codec.decode(message.value)).event)
        const body = toWebhookBody(event)
        const timestampSeconds = Math.floor(Date.now() / 1000)
        const signature = signWebhook({ id: event.eventId, timestampSeconds, body, secrets: [secret] })
        const response = await agent.request({
          origin: url.origin,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...webhookHeaders({ id: event.eventId, timestampSeconds, signature }) },
          body
        })
        await response.body.dump()
        // Throwing makes kafkajs retry the record: the offset moves only after success.
        if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`)
      }
    })
    // The window starts at the first delivery, so group join is not counted.
    const startedAt = Date.now()
    let windowEnd: number | undefined
    let cpu: { window: CpuWindow, from: number } | undefined
    for (;;) {
      if (options.signal.aborted) break
      const stats = await receiver.stats()
      if (stats.distinct >= options.expected) break
      if (stats.firstAt !== undefined) {
        windowEnd ??= stats.firstAt + options.budgetMs
        cpu ??= { window: new CpuWindow({ sender: process.pid, receiver: receiver.pid }), from: stats.distinct }
      }
      const now = Date.now()
      if (windowEnd !== undefined && now >= windowEnd) break
      if (windowEnd === undefined && now - startedAt > 60_000) throw new Error('naive consumer delivered nothing within 60 s')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    stopping = true
    const stats = await receiver.stats()
    const cpuUse = cpu?.window.end(stats.distinct - cpu.from) ?? { senderCores: Number.NaN, receiverCores: Number.NaN, machineCores: Number.NaN, senderUsPerItem: Number.NaN }
    return { rate: rateOf(stats.distinct, stats.firstAt, stats.lastAt, stats.distinct >= options.expected), cpu: cpuUse }
  } finally {
    stopping = true
    await consumer.disconnect()
    await agent.close()
  }
}
