import { randomUUID } from 'node:crypto'
import type { KafkaMessage } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compressionIds, compressionNames, createEventCodec, createEventRegistry, deleteSubject, undecodableBatchOf,
  type BankingEvent, type CompressionName, type EventCodec, type FamilyName
} from '../../../services/events/src/index.js'
import { createBankingProducer, createSimulator } from '../../../services/producer/src/index.js'
import { produceWith } from '../../support/foreign-producer.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'
import { storedCodecs } from '../../support/log-segments.js'
import { testStack } from '../../support/stack.js'
import { waitUntil } from '../../support/wait.js'

const EVENTS = 150
const PARTITIONS = 2

/** Every record of the topics, in log order per partition, once `count` have arrived. */
async function consumeAll (topics: string[], count: number): Promise<KafkaMessage[]> {
  const kafka = await testKafka('test-compression-reader')
  const consumer = kafka.consumer({ groupId: `test-compression-${randomUUID()}`, maxWaitTimeInMs: 100 })
  const received: Array<{ topic: string, partition: number, message: KafkaMessage }> = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topics, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ topic, partition, message }) => { received.push({ topic, partition, message }) } })
    await waitUntil(`${count} records from ${topics.join(', ')}`, () => received.length >= count, { timeoutMs: 60_000 })
  } finally {
    await consumer.disconnect()
  }
  return received
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)))
    .map((r) => r.message)
}

async function decodedEvents (codec: EventCodec, messages: KafkaMessage[]): Promise<unknown[]> {
  expect(messages.filter((m) => undecodableBatchOf(m) !== undefined)).toEqual([])
  return await Promise.all(messages.map(async (m) => (await codec.decode(m.value)).event))
}

/** Produced events in the order a reader of one topic-partition sees them: by event id. */
function byId (events: readonly unknown[]): unknown[] {
  return [...events].sort((a, b) => String((a as BankingEvent).eventId).localeCompare(String((b as BankingEvent).eventId)))
}

describe('compressed batches between kafkajs, the Java client and the broker', () => {
  let registryUrl: string
  let codec: EventCodec
  const topics: string[] = []
  let cleanup: (() => Promise<void>) | undefined

  beforeAll(async () => {
    registryUrl = (await testStack()).registryUrl
    codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
    for (const name of compressionNames) topics.push(...['tx', 'acc', 'fraud', 'java', 'rdkafka'].map((t) => uniqueTopic(`test-${name}-${t}`)))
    ;({ cleanup } = await createTestTopics(topics.map((topic) => ({ topic, numPartitions: PARTITIONS }))))
  })

  afterAll(async () => {
    await cleanup?.()
    await Promise.all(topics.filter((t) => !t.includes('-java-') && !t.includes('-rdkafka-')).map(async (topic) => await deleteSubject({ url: registryUrl }, `${topic}-value`)))
  })

  it.each(compressionNames)('%s: the producer library writes it, the broker accepts it; what it, Kafka\'s Java client and librdkafka write, kafkajs reads exactly', async (name: CompressionName) => {
    const [tx, acc, fraud, java, rdkafka] = topics.slice(compressionNames.indexOf(name) * 5) as [string, string, string, string, string]
    const familyTopics: Record<FamilyName, string> = { transactions: tx, accounts: acc, fraud }
    const kafka = await testKafka('test-compression-producer')
    const producer = createBankingProducer({ kafka, registry: createEventRegistry({ url: registryUrl }), topics: familyTopics, compression: name })
    await producer.connect()
    const simulator = createSimulator({ tenants: 2, accounts: 20, seed: 9 })
    const events = Array.from({ length: EVENTS }, (_, i) => simulator.next(new Date(Date.parse('2026-12-01T09:00:00Z') + i * 1000)))
    try {
      // The broker decompresses and validates every batch on produce (Java's codecs).
      await producer.publishMany(events)
    } finally {
      await producer.disconnect()
    }
    const written = await consumeAll([tx, acc, fraud], EVENTS)
    expect(byId(await decodedEvents(codec, written))).toEqual(byId(events))
    const libraryCodecs = [...await storedCodecs(tx, PARTITIONS), ...await storedCodecs(acc, PARTITIONS), ...await storedCodecs(fraud, PARTITIONS)]
    expect(new Set(libraryCodecs)).toEqual(new Set([compressionIds[name]]))

    // The same bytes through Apache Kafka's Java producer and through librdkafka, read back by kafkajs.
    for (const [client, topic] of [['java', java], ['librdkafka', rdkafka]] as const) {
      await produceWith(client, name, written.map((m) => ({ topic, key: m.key as Buffer, value: m.value as Buffer })))
      const fromClient = await consumeAll([topic], EVENTS)
      expect(byId(await decodedEvents(codec, fromClient)), client).toEqual(byId(events))
      const stored = await storedCodecs(topic, PARTITIONS)
      expect(stored.length, client).toBeGreaterThan(0)
      expect(new Set(stored), client).toEqual(new Set([compressionIds[name]]))
    }
  }, 120_000)
})
