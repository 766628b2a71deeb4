// Produces transaction events at a fixed rate (below the dispatcher's
// capacity) for the latency phase, recording for each event when its send
// started and when Kafka acknowledged it (acks=all).
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Kafka } from 'kafkajs'
import type { EventCodec, TransactionEvent } from '../../services/events/src/index.js'

export interface PacedEvent {
  eventId: string
  accountId: string
  accountSequence: number
  tenantId: string
  eventType: string
  /** Epoch ms: send started, and acknowledged. */
  sentAt: number
  ackedAt: number
}

// kafkajs has no linger.ms: each send() is its own produce request. Every
// TICK_MS the pacer sends what has come due as one request (about 5 events
// at 1,000/s): small enough that the stream reaches the dispatcher smoothly,
// few enough requests that the producer is no load. Latency is measured from
// the send call, so this wait is not counted.
export const TICK_MS = 5

const now = (): number => performance.timeOrigin + performance.now()

export async function producePaced (options: {
  kafka: Kafka
  codec: Pick<EventCodec, 'encode'>
  topic: string
  tenantId: string
  ratePerSecond: number
  seconds: number
  signal: AbortSignal
}): Promise<PacedEvent[]> {
  const { kafka, codec, topic, tenantId, ratePerSecond, signal } = options
  const total = Math.max(1, Math.round(ratePerSecond * options.seconds))
  // Enough accounts that no key gets a second event while its first may
  // still be in flight at the slow receiver.
  const accounts = Math.max(100, Math.ceil(ratePerSecond * 2))
  const sequences = new Map<string, number>()
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const produced: PacedEvent[] = []
  const sends: Array<Promise<void>> = []
  try {
    const startedAt = now()
    let made = 0
    while (made < total && !signal.aborted) {
      const due = Math.min(total, Math.floor(((now() - startedAt) / 1000) * ratePerSecond) + 1)
      if (due > made) {
        const batch: PacedEvent[] = []
        const messages = []
        for (; made < due; made++) {
          const accountId = `paced-${String(made % accounts).padStart(6, '0')}`
          const accountSequence = (sequences.get(accountId) ?? 0) + 1
          sequences.set(accountId, accountSequence)
          const event: TransactionEvent = {
            eventId: randomUUID(),
            eventType: 'transaction.posted',
            occurredAt: new Date(),
            tenantId,
            accountId,
            accountSequence,
            transactionId: `paced-txn-${made}`,
            amount: `${(made % 1000) + 1}.25`,
            currency: 'EUR',
            direction: made % 2 === 0 ? 'DEBIT' : 'CREDIT',
            counterparty: null,
            merchant: null,
            balanceAfter: '100.00',
            description: null,
            declineReason: null,
            reversedTransactionId: null
          }
          messages.push({ key: accountId, value: await codec.encode('transactions', event, { topic }) })
          batch.push({ eventId: event.eventId, accountId, accountSequence, tenantId, eventType: event.eventType, sentAt: 0, ackedAt: 0 })
        }
        const sentAt = now()
        for (const e of batch) e.sentAt = sentAt
        produced.push(...batch)
        // Not awaited here: a slow acknowledgement must not slow the pace.
        sends.push(producer.send({ topic, acks: -1, messages }).then(() => {
          const ackedAt = now()
          for (const e of batch) e.ackedAt = ackedAt
        }))
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS))
    }
    await Promise.all(sends)
  } finally {
    await producer.disconnect()
  }
  return produced
}
