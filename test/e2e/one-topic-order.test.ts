import { createHash, randomUUID } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createEventRegistry, deleteSubject, FAMILY_NAMES, familySchemaString, familyType, frameWire, registerSchema, sourceLayout,
  type BankingEvent, type EventRegistry
} from '../../services/events/src/index.js'
import { createBankingProducer, createSimulator, type BankingProducer } from '../../services/producer/src/index.js'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { eventTypeMatches } from '../../services/dispatcher/src/subscriptions/match.js'
import { readTopic } from '../support/dead-letters.js'
import { startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { produceWith } from '../support/foreign-producer.js'
import { createTestTopics, testKafka, uniqueTopic } from '../support/kafka.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { testStack } from '../support/stack.js'
import { waitUntil } from '../support/wait.js'
import { startTestReceiver, type Behaviour, type TestReceiver } from '../support/webhook-receiver.js'
import { accountStatusEvent, fraudAlertEvent, transactionEvent } from '../unit/events/fixtures.js'

interface Sub { id: string, tenantId: string, eventTypes: string[], behaviour?: Behaviour, maxInFlight?: number }

/** One topic of every family (the default layout), a dispatcher on it, receivers per subscription. */
async function oneTopicScenario (subs: Sub[], { partitions, env = {} }: { partitions: number, env?: Record<string, string> }) {
  const source = uniqueTopic('e2e-one-topic')
  const deadLetter = uniqueTopic('e2e-one-topic-dlq')
  const secret = generateSecret()
  const { registryUrl } = await testStack()
  const { cleanup } = await createTestTopics([{ topic: source, numPartitions: partitions }])
  const kafka: Kafka = await testKafka('test-one-topic-e2e')
  const registry: EventRegistry = createEventRegistry({ url: registryUrl })
  const producer: BankingProducer = createBankingProducer({ kafka, registry, topic: source })
  await producer.connect()
  const receivers = new Map<string, TestReceiver>()
  for (const sub of subs) receivers.set(sub.id, await startTestReceiver(secret, sub.behaviour))
  const dispatcher: DispatcherProcess = await startDispatcher({
    SOURCE_TOPICS: source,
    DEAD_LETTER_TOPIC: deadLetter,
    KAFKA_GROUP_ID: `e2e-one-topic-${randomUUID()}`,
    SUBSCRIPTIONS_FILE: await writeSubscriptionsFile(subs.map((s) => ({
      id: s.id, tenantId: s.tenantId, url: (receivers.get(s.id) as TestReceiver).url, eventTypes: s.eventTypes, secrets: [secret],
      ...(s.maxInFlight === undefined ? {} : { maxInFlight: s.maxInFlight })
    }))),
    ...env
  })
  return {
    source,
    deadLetter,
    registry,
    producer,
    receivers,
    dispatcher,
    check: (produced: readonly ProducedEvent[]) => checkDeliveries(produced, subs.map((s) => ({
      id: s.id,
      tenantId: s.tenantId,
      matches: (type: string) => s.eventTypes.some((f) => eventTypeMatches(f, type)),
      accepted: (receivers.get(s.id) as TestReceiver).accepted()
    }))),
    close: async () => {
      dispatcher.kill('SIGKILL')
      await dispatcher.exited
      await Promise.all([...receivers.values()].map(async (r) => await r.close()))
      await producer.disconnect()
      await cleanup()
      await Promise.all(FAMILY_NAMES.map(async (family) => await deleteSubject({ url: registryUrl }, sourceLayout({ topic: source }).subjects[family])))
    }
  }
}

type Scenario = Awaited<ReturnType<typeof oneTopicScenario>>

const asProduced = (e: BankingEvent): ProducedEvent =>
  ({ eventId: e.eventId, eventType: e.eventType, tenantId: e.tenantId, accountId: e.accountId, accountSequence: Number(e.accountSequence) })

/** A stable pseudo-random fraction per webhook id, so a receiver fails the same events on every run. */
const fraction = (id: string): number => createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32

describe('one source topic of every family (the default layout)', () => {
  let scenario: Scenario | undefined

  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('delivers every family of an account in accountSequence order per (subscription, account), with slow and failing receivers, nothing lost (C1, C2)', async () => {
    scenario = await oneTopicScenario([
      { id: 'sub-all', tenantId: 'tenant-001', eventTypes: ['*'] },
      {
        // Fails a fifth of first attempts (500), so keys park and retry; the rest after 5 ms.
        id: 'sub-flaky',
        tenantId: 'tenant-001',
        eventTypes: ['account.*', 'transaction.posted', 'transaction.declined', 'fraud_alert.*'],
        behaviour: ({ webhookId, attempt }) => (attempt === 1 && fraction(webhookId) < 0.2 ? { status: 500 } : { status: 204, delayMs: 5 })
      },
      {
        // Slow (25 ms) with a small cap, and a 503 on the first attempt of some accounts' events.
        id: 'sub-slow',
        tenantId: 'tenant-002',
        eventTypes: ['*'],
        maxInFlight: 8,
        behaviour: ({ accountId, attempt }) => (attempt === 1 && fraction(accountId) < 0.1 ? { status: 503 } : { status: 204, delayMs: 25 })
      }
    ], { partitions: 6, env: { RETRY_SCHEDULE_MS: '100,200,400' } })
    const s = scenario
    const simulator = createSimulator({ tenants: 2, accounts: 300, seed: 1105, mix: { transactions: 50, accounts: 25, fraud: 25 } })
    const start = Date.now()
    const events = Array.from({ length: 4000 }, (_, i) => simulator.next(new Date(start + i)))
    // All at once, as fast as the producer writes them, while the dispatcher runs.
    await s.producer.publishMany(events)
    const produced = events.map(asProduced)

    const familiesPerAccount = new Map<string, Set<string>>()
    for (const e of events) familiesPerAccount.set(e.accountId, (familiesPerAccount.get(e.accountId) ?? new Set()).add(e.eventType.split('.')[0] as string))
    expect([...familiesPerAccount.values()].filter((f) => f.size === 3).length).toBeGreaterThan(100)

    await waitUntil('every matching event delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 150_000, intervalMs: 500 })
    const report = s.check(produced)
    expect(report.missing).toEqual([])
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    // The receivers did fail: retries happened, and order held across them.
    const flaky = s.receivers.get('sub-flaky') as TestReceiver
    const slow = s.receivers.get('sub-slow') as TestReceiver
    expect(flaky.received.filter((r) => r.status === 500).length).toBeGreaterThan(50)
    expect(slow.received.filter((r) => r.status === 503).length).toBeGreaterThan(10)
    expect(flaky.badSignatures + slow.badSignatures).toBe(0)
    // Every family reached the receivers.
    const deliveredFamilies = new Set((s.receivers.get('sub-all') as TestReceiver).accepted().map((r) => produced.find((p) => p.eventId === r.webhookId)?.eventType.split('.')[0]))
    expect([...deliveredFamilies].sort()).toEqual(['account', 'fraud_alert', 'transaction'])
  }, 240_000)

  it('dead-letters an event type outside its record\'s family (event-type-not-in-family) with the original bytes; later records of the partition flow; records written by librdkafka under TopicRecordNameStrategy subjects are delivered', async () => {
    scenario = await oneTopicScenario([{ id: 'sub', tenantId: 'tenant-001', eventTypes: ['*'] }], { partitions: 1 })
    const s = scenario
    const { registryUrl } = await testStack()
    const account = 'acc-000777'
    let sequence = 0
    const next = <T extends BankingEvent>(event: T): T => ({ ...event, eventId: randomUUID(), accountId: account, tenantId: 'tenant-001', accountSequence: ++sequence })
    const before = [next(accountStatusEvent({ eventType: 'account.opened', previousStatus: null, newStatus: 'ACTIVE' })), next(transactionEvent())]
    await s.producer.publishMany(before)

    // A foreign producer's convention: schemas registered under <topic>-<record full name>, as
    // Confluent serializers do with value.subject.name.strategy=TopicRecordNameStrategy.
    const subjects = sourceLayout({ topic: s.source }).subjects
    const ids = {
      transactions: await registerSchema({ url: registryUrl }, subjects.transactions, familySchemaString('transactions')),
      accounts: await registerSchema({ url: registryUrl }, subjects.accounts, familySchemaString('accounts')),
      fraud: await registerSchema({ url: registryUrl }, subjects.fraud, familySchemaString('fraud'))
    }
    // Bodies written without the producer library's validation, as any Avro writer can.
    const wrongFamily = frameWire(ids.transactions, familyType('transactions').toBuffer({ ...next(transactionEvent()), eventType: 'account.opened' }))
    const unknownType = frameWire(ids.transactions, familyType('transactions').toBuffer({ ...next(transactionEvent()), eventType: 'transaction.exploded' }))
    const foreignGood = [next(fraudAlertEvent()), next(accountStatusEvent({ eventType: 'account.frozen', previousStatus: 'ACTIVE', newStatus: 'FROZEN', reason: 'SUSPECTED_FRAUD' }))]
    const foreignValues = [
      frameWire(ids.fraud, familyType('fraud').toBuffer(foreignGood[0])),
      frameWire(ids.accounts, familyType('accounts').toBuffer(foreignGood[1]))
    ]
    await produceWith('librdkafka', 'none', [wrongFamily, foreignValues[0], unknownType, foreignValues[1]].map((value) => ({ topic: s.source, key: Buffer.from(account), value: value as Buffer })))
    const after = [next(transactionEvent({ eventType: 'transaction.posted', balanceAfter: '10.0000' })), next(fraudAlertEvent())]
    await s.producer.publishMany(after)

    const delivered = [...before, ...foreignGood, ...after].map(asProduced)
    await waitUntil('the records around the bad ones delivered', () => s.check(delivered).missing.length === 0, { timeoutMs: 60_000 })
    const letters = await waitUntil('two dead letters', async () => {
      const all = await readTopic(s.deadLetter).catch(() => [])
      return all.length >= 2 ? all : undefined
    }, { timeoutMs: 30_000 })
    expect(letters.map((l) => l.headers['whd-dead-letter-reason'])).toEqual(['event-type-not-in-family', 'event-type-not-in-family'])
    expect(letters.map((l) => l.value)).toEqual([wrongFamily, unknownType])
    expect(letters.every((l) => l.headers['whd-source-topic'] === s.source && l.key === account)).toBe(true)
    const report = s.check(delivered)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    // Exactly the six good events reached the receiver: neither bad one was delivered.
    expect(new Set((s.receivers.get('sub') as TestReceiver).accepted().map((r) => r.webhookId))).toEqual(new Set(delivered.map((e) => e.eventId)))
  }, 120_000)
})
