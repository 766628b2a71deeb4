import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createEventFeed } from '../support/event-feed.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { startPrivateKafka, type PrivateKafka } from '../support/private-kafka.js'
import { waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

/** The dispatcher's JSON log lines (pino), parsed; other output lines are returned as `{ text }`. */
function logLines (output: string): Array<Record<string, unknown>> {
  return output.split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>
    } catch {
      return { text: line }
    }
  })
}

// Issue 12: a first start against a fresh broker is quiet, and a replication
// factor the cluster cannot meet is a configuration error.
describe('clean start-up', () => {
  let kafka: PrivateKafka | undefined
  let receiver: TestReceiver | undefined
  const dispatchers: DispatcherProcess[] = []
  beforeAll(async () => {
    // A fresh broker of this test's own: no __consumer_offsets yet, no topics.
    kafka = await startPrivateKafka()
  }, 120_000)
  afterAll(async () => {
    for (const d of dispatchers) d.kill('SIGKILL')
    await Promise.all(dispatchers.map(async (d) => await d.exited))
    await receiver?.close()
    await kafka?.close()
  })

  it('exits 78 naming TOPIC_REPLICATION_FACTOR, the topic and the broker count when the cluster has fewer brokers', async () => {
    const brokers = (kafka as PrivateKafka).brokers
    const source = uniqueTopic('e2e-src')
    await createTestTopics([{ topic: source, numPartitions: 2 }], { brokers })
    const d = await startDispatcher({
      KAFKA_BROKERS: brokers.join(','),
      SOURCE_TOPICS: source,
      KAFKA_GROUP_ID: `e2e-group-${randomUUID()}`,
      TOPIC_REPLICATION_FACTOR: '3'
    }, { waitReady: false })
    dispatchers.push(d)
    expect(await d.exited).toBe(78)
    const output = d.output()
    expect(output).toMatch(/TOPIC_REPLICATION_FACTOR/)
    expect(output).toContain(`${source}.retry`)
    expect(output).toMatch(/1 broker\b/)
    expect(output).not.toMatch(/Topic creation errors/)
  }, 120_000)

  it('a first start against a fresh broker, with a source topic created just before, logs nothing at error level and no kafkajs warning', async () => {
    const brokers = (kafka as PrivateKafka).brokers
    const source = uniqueTopic('e2e-src')
    await createTestTopics([{ topic: source, numPartitions: 3 }], { brokers })
    const secret = generateSecret()
    receiver = await startTestReceiver(secret)
    const rx = receiver
    const d = await startDispatcher({
      KAFKA_BROKERS: brokers.join(','),
      SOURCE_TOPICS: source,
      KAFKA_GROUP_ID: `e2e-group-${randomUUID()}`,
      DEAD_LETTER_TOPIC: uniqueTopic('e2e-dlq'),
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub', tenantId: 'tenant-000', url: rx.url, eventTypes: ['*'], secrets: [secret] }])
    })
    dispatchers.push(d)
    const feed = await createEventFeed({ brokers })
    try {
      await feed.publishTransactions(source, { count: 50, accounts: 5 })
    } finally {
      await feed.close()
    }
    await waitUntil('every event delivered', () => rx.acceptedIds() >= 50, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; the dispatcher's log:\n${d.output().slice(-6000)}`)
    })
    d.kill('SIGTERM')
    expect(await d.exited).toBe(0)

    const lines = logLines(d.output())
    const loud = lines.filter((l) => typeof l.level === 'number' && l.level >= 50)
    expect(loud, JSON.stringify(loud.map((l) => ({ module: l.module, msg: l.msg, error: l.error, err: (l.err as { message?: string } | undefined)?.message, op: l.op })), null, 1)).toEqual([])
    const kafkajsWarnings = lines.filter((l) => l.level === 40 && String(l.module).startsWith('kafkajs'))
    expect(kafkajsWarnings, JSON.stringify(kafkajsWarnings, null, 1)).toEqual([])
    // Not JSON: Node's own warnings (TimeoutNegativeWarning) and stray prints.
    expect(lines.filter((l) => l.text !== undefined)).toEqual([])
  }, 180_000)
})
