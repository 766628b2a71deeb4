import { randomUUID } from 'node:crypto'
import type { Consumer, KafkaMessage } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createEventCodec, createEventRegistry, deleteSubject, FAMILIES, FAMILY_NAMES, getLatestVersion, parseWireHeader, sourceLayout,
  type BankingEvent, type FamilyName
} from '../../../services/events/src/index.js'
import { createBankingProducer, createSimulator, javaPartition, type BankingProducer } from '../../../services/producer/src/index.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'
import { waitUntil } from '../../support/wait.js'

const EVENTS = 1500
const PARTITIONS = 6

/**
 * The default layout: every family on one topic, keyed by account, each
 * family's schema under its own subject `<topic>-<record full name>`
 * (TopicRecordNameStrategy), so one account's events of all families share
 * a partition and its order.
 */
describe('the producer library on one topic of every family', () => {
  const topic = uniqueTopic('test-one-topic')
  const layout = sourceLayout({ topic })
  const produced: BankingEvent[] = []
  const received: Array<KafkaMessage & { partition: number }> = []
  let registryUrl: string
  let cleanupTopics: () => Promise<void>
  let producer: BankingProducer | undefined
  let consumer: Consumer | undefined

  beforeAll(async () => {
    registryUrl = (await testStack()).registryUrl
    ;({ cleanup: cleanupTopics } = await createTestTopics([{ topic, numPartitions: PARTITIONS }]))
    const kafka = await testKafka('test-one-topic')
    producer = createBankingProducer({ kafka, registry: createEventRegistry({ url: registryUrl }), topic })
    await producer.connect()
    const simulator = createSimulator({ tenants: 3, accounts: 60, seed: 711, mix: { transactions: 50, accounts: 25, fraud: 25 } })
    const start = Date.parse('2026-11-27T09:00:00Z')
    const events = Array.from({ length: EVENTS }, (_, i) => simulator.next(new Date(start + i * 13)))
    produced.push(...events)
    const results = await producer.publishMany(events)
    expect(new Set(results.map((r) => r.topic))).toEqual(new Set([topic]))

    consumer = kafka.consumer({ groupId: `test-one-topic-${randomUUID()}` })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachMessage: async ({ partition, message }) => { received.push({ ...message, partition }) } })
    await waitUntil(`${EVENTS} records consumed`, () => received.length >= EVENTS, { timeoutMs: 60_000 })
  })

  afterAll(async () => {
    await consumer?.disconnect()
    await producer?.disconnect()
    await cleanupTopics?.()
    await Promise.all(FAMILY_NAMES.map(async (family) => await deleteSubject({ url: registryUrl }, layout.subjects[family])))
  })

  it('writes all three families to the one topic, each with the schema id of its own record subject', async () => {
    expect(producer?.topics).toEqual({ transactions: topic, accounts: topic, fraud: topic })
    expect(producer?.layout.subjects).toEqual({
      transactions: `${topic}-com.bank.events.v1.TransactionEvent`,
      accounts: `${topic}-com.bank.events.v1.AccountStatusEvent`,
      fraud: `${topic}-com.bank.events.v1.FraudAlertEvent`
    })
    const idOf = new Map<number, FamilyName>()
    for (const family of FAMILY_NAMES) {
      const latest = await getLatestVersion({ url: registryUrl }, layout.subjects[family])
      expect(latest, `subject ${layout.subjects[family]}`).toBeDefined()
      idOf.set(latest?.id as number, family)
      // No TopicNameStrategy subject: several records cannot share <topic>-value.
    }
    expect(await getLatestVersion({ url: registryUrl }, `${topic}-value`)).toBeUndefined()
    expect(idOf.size).toBe(3)

    const familyOf = new Map(produced.map((e) => [e.eventId, FAMILY_NAMES.find((f) => (FAMILIES[f].eventTypes as readonly string[]).includes(e.eventType))]))
    const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
    const seen = new Set<FamilyName>()
    for (const message of received) {
      const { schemaId } = parseWireHeader(message.value)
      const decoded = await codec.decode(message.value)
      expect(idOf.get(schemaId)).toBe(decoded.family)
      expect(familyOf.get(decoded.event.eventId)).toBe(decoded.family)
      expect(message.key?.toString()).toBe(decoded.event.accountId)
      seen.add(decoded.family)
    }
    expect([...seen].sort()).toEqual(['accounts', 'fraud', 'transactions'])
  })

  it('keeps one account\'s events of every family in one partition, in accountSequence order', async () => {
    const byAccount = new Map<string, { partitions: Set<number>, sequences: number[] }>()
    const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
    // `received` is in per-partition offset order (one consumer, eachMessage).
    for (const message of received) {
      const { event } = await codec.decode(message.value)
      const entry = byAccount.get(event.accountId) ?? { partitions: new Set<number>(), sequences: [] }
      entry.partitions.add(message.partition)
      expect(message.partition).toBe(javaPartition(Buffer.from(event.accountId), PARTITIONS))
      entry.sequences.push(Number(event.accountSequence))
      byAccount.set(event.accountId, entry)
    }
    const families = new Map<string, Set<string>>()
    for (const e of produced) families.set(e.accountId, (families.get(e.accountId) ?? new Set()).add(e.eventType.split('.')[0] as string))
    expect([...families.values()].filter((f) => f.size === 3).length).toBeGreaterThan(10)
    for (const [accountId, { partitions, sequences }] of byAccount) {
      expect(partitions.size, accountId).toBe(1)
      expect(sequences, accountId).toEqual([...sequences].sort((a, b) => a - b))
    }
  })
})
