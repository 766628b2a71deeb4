import { randomUUID } from 'node:crypto'
import type { Producer } from 'kafkajs'
import { createEventCodec, createEventRegistry, type EventCodec, type TransactionEvent } from '../../services/events/src/index.js'
import type { ProducedEvent } from './oracle.js'
import { testKafka } from './kafka.js'
import { testStack } from './stack.js'

const transactionTypes = ['transaction.authorized', 'transaction.posted', 'transaction.declined', 'transaction.reversed'] as const

export interface PreparedTransaction {
  event: TransactionEvent
  produced: ProducedEvent
  /** Key = account id; value in Confluent wire format. */
  message: { key: string, value: Buffer }
}

/** Publishes transaction events for e2e tests; key = accountId, acks=all. */
export interface EventFeed {
  codec: EventCodec
  /** Like publishTransactions, but only encodes: for a test that writes them another way. */
  prepareTransactions: (topic: string, options: { count: number, accounts: number, tenants?: number }) => Promise<PreparedTransaction[]>
  /** `count` events over `accounts` accounts of `tenants` tenants, sequences increasing per account. */
  publishTransactions: (topic: string, options: { count: number, accounts: number, tenants?: number, batchSize?: number }) => Promise<ProducedEvent[]>
  /** Raw bytes (poison records), key given. */
  publishRaw: (topic: string, records: Array<{ key: string, value: Buffer | null }>) => Promise<void>
  close: () => Promise<void>
}

/** `brokers` publishes to another cluster than the test stack's (the registry stays the stack's). */
export async function createEventFeed ({ brokers }: { brokers?: string[] } = {}): Promise<EventFeed> {
  const { registryUrl } = await testStack()
  const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
  const kafka = await testKafka('test-feed', brokers)
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const sequences = new Map<string, number>()
  const feed: EventFeed = {
    codec,
    async prepareTransactions (topic, { count, accounts, tenants = 1 }) {
      const prepared: PreparedTransaction[] = []
      for (let i = 0; i < count; i++) {
        const accountIndex = i % accounts
        const accountId = `acc-${String(accountIndex).padStart(6, '0')}`
        const tenantId = `tenant-${String(accountIndex % tenants).padStart(3, '0')}`
        const seq = (sequences.get(`${topic}/${accountId}`) ?? 0) + 1
        sequences.set(`${topic}/${accountId}`, seq)
        const eventType = transactionTypes[Math.floor(i / accounts) % transactionTypes.length] as TransactionEvent['eventType']
        const event: TransactionEvent = {
          eventId: randomUUID(),
          eventType,
          occurredAt: new Date(),
          tenantId,
          accountId,
          accountSequence: seq,
          transactionId: `txn-${i}`,
          amount: `${(i % 1000) + 1}.25`,
          currency: 'EUR',
          direction: i % 2 === 0 ? 'DEBIT' : 'CREDIT',
          counterparty: null,
          merchant: null,
          balanceAfter: null,
          description: null,
          declineReason: eventType === 'transaction.declined' ? 'INSUFFICIENT_FUNDS' : null,
          reversedTransactionId: eventType === 'transaction.reversed' ? `txn-${i - 1}` : null
        }
        prepared.push({
          event,
          produced: { eventId: event.eventId, eventType: event.eventType, tenantId, accountId, accountSequence: seq },
          message: { key: accountId, value: await codec.encode('transactions', event, { topic }) }
        })
      }
      return prepared
    },
    async publishTransactions (topic, { count, accounts, tenants = 1, batchSize = 500 }) {
      const prepared = await feed.prepareTransactions(topic, { count, accounts, tenants })
      for (let start = 0; start < count; start += batchSize) {
        await producer.send({ topic, acks: -1, messages: prepared.slice(start, start + batchSize).map((p) => p.message) })
      }
      return prepared.map((p) => p.produced)
    },
    async publishRaw (topic, records) {
      await producer.send({ topic, acks: -1, messages: records })
    },
    close: () => producer.disconnect()
  }
  return feed
}
