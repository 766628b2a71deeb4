import { randomUUID } from 'node:crypto'
import type { Consumer, KafkaMessage } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createEventCodec, createEventRegistry, deleteSubject, type BankingEvent, type FamilyName
} from '../../../services/events/src/index.js'
import {
  createBankingProducer, createSimulator, javaPartition, type BankingProducer, type PublishResult
} from '../../../services/producer/src/index.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'
import { waitUntil } from '../../support/wait.js'

const EVENTS = 2000
const PARTITIONS = 12
const BATCH = 200

interface Received {
  topic: string
  partition: number
  message: KafkaMessage
}

describe('simulator events through the producer library and back', () => {
  const topics: Record<FamilyName, string> = {
    transactions: uniqueTopic('test-rt-tx'), accounts: uniqueTopic('test-rt-acc'), fraud: uniqueTopic('test-rt-fraud')
  }
  const produced = new Map<string, BankingEvent>()
  const results = new Map<string, PublishResult>()
  const received: Received[] = []
  let registryUrl: string
  let cleanupTopics: () => Promise<void>
  let producer: BankingProducer | undefined
  let consumer: Consumer | undefined

  beforeAll(async () => {
    registryUrl = (await testStack()).registryUrl
    ;({ cleanup: cleanupTopics } = await createTestTopics(Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS }))))
    const kafka = await testKafka('test-round-trip')
    producer = createBankingProducer({ kafka, registry: createEventRegistry({ url: registryUrl }), topics })
    await producer.connect()

    const simulator = createSimulator({ tenants: 5, accounts: 100, seed: 2026 })
    const start = Date.parse('2026-11-27T09:00:00Z')
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, i) => simulator.next(new Date(start + (sent + i) * 37)))
      for (const event of batch) produced.set(event.eventId, event)
      const published = await producer.publishMany(batch)
      expect(published.map((result) => result.eventId)).toEqual(batch.map((event) => event.eventId))
      for (const result of published) results.set(result.eventId, result)
    }

    consumer = kafka.consumer({ groupId: `test-rt-${randomUUID()}` })
    await consumer.connect()
    await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        received.push({ topic, partition, message })
      }
    })
    await waitUntil(`${EVENTS} records consumed`, () => received.length >= EVENTS, { timeoutMs: 60_000 })
  })

  afterAll(async () => {
    await consumer?.disconnect()
    await producer?.disconnect()
    await cleanupTopics?.()
    await Promise.all(Object.values(topics).map(async (topic) => await deleteSubject({ url: registryUrl }, `${topic}-value`)))
  })

  it('writes each event once, at the partition and offset publish reported', async () => {
    expect(received).toHaveLength(EVENTS)
    const kafka = await testKafka('test-round-trip-admin')
    const admin = kafka.admin()
    await admin.connect()
    try {
      let total = 0n
      for (const topic of Object.values(topics)) {
        for (const { high, low } of await admin.fetchTopicOffsets(topic)) total += BigInt(high) - BigInt(low)
      }
      expect(total).toBe(BigInt(EVENTS))
    } finally {
      await admin.disconnect()
    }
    const reported = [...results.values()].map((result) => `${result.topic}:${result.partition}:${result.offset}`).sort()
    const consumed = received.map(({ topic, partition, message }) => `${topic}:${partition}:${message.offset}`).sort()
    expect(new Set(reported).size).toBe(EVENTS)
    expect(consumed).toEqual(reported)
  })

  it('decodes every record to the event produced: key, partition, order and exact amounts', async () => {
    // A fresh registry client: schemas come from the registry by id, not from a cache the producer filled.
    const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
    const familyOfTopic = new Map(Object.entries(topics).map(([family, topic]) => [topic, family]))
    const partitionsOfAccount = new Map<string, Set<number>>()
    const sequences = new Map<string, number[]>()
    let amounts = 0

    const ordered = [...received].sort((a, b) =>
      a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)))
    for (const { topic, partition, message } of ordered) {
      const decoded = await codec.decode(message.value)
      const event = decoded.event
      const original = produced.get(event.eventId)
      expect(original, `unknown event ${event.eventId}`).toBeDefined()
      expect(decoded.family).toBe(familyOfTopic.get(topic))
      expect(message.key?.toString('utf8')).toBe(event.accountId)
      expect(partition).toBe(javaPartition(event.accountId, PARTITIONS))
      expect(results.get(event.eventId)).toMatchObject({ topic, partition, offset: message.offset })
      expect(event).toEqual(original)
      if (decoded.family === 'transactions' && original !== undefined && 'amount' in original) {
        expect(decoded.event.amount).toBe(original.amount)
        expect(decoded.event.balanceAfter).toBe(original.balanceAfter)
        amounts++
      }
      partitionsOfAccount.set(event.accountId, (partitionsOfAccount.get(event.accountId) ?? new Set()).add(partition))
      const key = `${topic}|${event.accountId}`
      sequences.set(key, [...(sequences.get(key) ?? []), Number(event.accountSequence)])
    }

    expect(amounts).toBeGreaterThan(EVENTS / 2)
    expect(partitionsOfAccount.size).toBeGreaterThanOrEqual(90)
    // One partition per account, the same number in all three topics.
    expect([...partitionsOfAccount].filter(([, set]) => set.size !== 1)).toEqual([])
    const perAccount = new Map<string, number[]>()
    for (const [key, list] of sequences) {
      const increasing = list.every((sequence, i) => i === 0 || sequence > (list[i - 1] as number))
      expect(increasing, `${key}: ${list.join(',')}`).toBe(true)
      const accountId = key.split('|')[1] as string
      perAccount.set(accountId, [...(perAccount.get(accountId) ?? []), ...list])
    }
    // Across the three topics each account's sequence is 1..n without gaps.
    for (const [accountId, list] of perAccount) {
      expect(list.sort((a, b) => a - b), accountId).toEqual(list.map((_, i) => i + 1))
    }
  })
})
