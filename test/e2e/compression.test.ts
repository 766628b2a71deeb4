import type { Admin } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { toWebhookBody } from '../../services/dispatcher/src/delivery/payload.js'
import { redrive } from '../../services/dispatcher/src/redrive/run.js'
import { compressionIds, compressionNames, createEventRegistry, kafkaCompressionType, type CompressionName } from '../../services/events/src/index.js'
import { createBankingProducer } from '../../services/producer/src/index.js'
import { readTopic } from '../support/dead-letters.js'
import { readMetric } from '../support/dispatcher-process.js'
import type { PreparedTransaction } from '../support/event-feed.js'
import { produceWith } from '../support/foreign-producer.js'
import { createTestTopics, testKafka, uniqueTopic } from '../support/kafka.js'
import { damageBatch, storedBatches, storedCodecs } from '../support/log-segments.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { testStack } from '../support/stack.js'
import { waitUntil } from '../support/wait.js'

async function partitionsOf (admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
  return metadata.topics[0]?.partitions.length ?? 0
}

async function committed (admin: Admin, group: string, topic: string): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]))
}

describe('compressed topics end to end', () => {
  let scenario: Scenario | undefined
  let admin: Admin | undefined
  afterEach(async () => {
    await scenario?.close()
    await admin?.disconnect()
    scenario = undefined
    admin = undefined
  })

  it('delivers in order, every field exact, what the producer library, Kafka\'s Java client and librdkafka wrote with each codec', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 4 })
    const s = scenario
    // The producer library checks that every family's topic exists; only transactions are written here.
    const others = { accounts: uniqueTopic('e2e-acc'), fraud: uniqueTopic('e2e-fraud') }
    const { cleanup } = await createTestTopics([{ topic: others.accounts }, { topic: others.fraud }])
    const { registryUrl } = await testStack()
    const sent: PreparedTransaction[] = []
    try {
      // One run per writer and codec, one after the other: each account's events span them all, in order.
      for (const name of compressionNames) {
        for (const client of ['java', 'librdkafka'] as const) {
          const round = await s.feed.prepareTransactions(s.source, { count: 40, accounts: 12 })
          await produceWith(client, name, round.map((p) => ({ topic: s.source, key: Buffer.from(p.message.key), value: p.message.value })))
          sent.push(...round)
        }
        const producer = createBankingProducer({ kafka: await testKafka('test-library'), registry: createEventRegistry({ url: registryUrl }), topics: { transactions: s.source, ...others }, compression: name })
        await producer.connect()
        try {
          const round = await s.feed.prepareTransactions(s.source, { count: 40, accounts: 12 })
          await producer.publishMany(round.map((p) => p.event))
          sent.push(...round)
        } finally {
          await producer.disconnect()
        }
      }
    } finally {
      await cleanup()
    }
    const stored = new Set(await storedCodecs(s.source, 4))
    expect(stored).toEqual(new Set(Object.values(compressionIds)))

    const dispatcher = await s.start()
    const produced = sent.map((p) => p.produced)
    await waitUntil('every event delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    const bodies = new Map((s.receivers.get('sub')?.accepted() ?? []).map((r) => [r.webhookId, r.body]))
    for (const { event } of sent) expect(bodies.get(event.eventId)).toEqual(JSON.parse(toWebhookBody(event)))
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_undecodable_batches_total')).toBe(0)
  }, 180_000)

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('KAFKA_COMPRESSION=%s: its retry, dead-letter, redrive and subscriptions records are written so and read back', async (name: CompressionName) => {
    let down = true
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => ({ status: down ? 500 : 204 }) }], { partitions: 2 })
    const s = scenario
    const subscriptionsTopic = uniqueTopic('test-subscriptions')
    const produced = await s.feed.publishTransactions(s.source, { count: 12, accounts: 3 })
    await s.start({
      KAFKA_COMPRESSION: name,
      SUBSCRIPTIONS_TOPIC: subscriptionsTopic,
      RETRY_SCHEDULE_MS: '100,200',
      RETRY_MAX_AGE_SECONDS: '1',
      CIRCUIT_FAILURE_THRESHOLD: '10000'
    })
    await waitUntil('12 dead letters', async () => (await readTopic(s.deadLetter)).length >= 12, { timeoutMs: 60_000, intervalMs: 500 })

    admin = (await testKafka('test-compression-admin')).admin()
    await admin.connect()
    const retry = s.retry
    const id = compressionIds[name]
    for (const topic of [retry, s.deadLetter, subscriptionsTopic]) {
      const codecs = await storedCodecs(topic, await partitionsOf(admin, topic))
      expect(codecs.length, topic).toBeGreaterThan(0)
      expect(new Set(codecs), topic).toEqual(new Set([id]))
    }
    const retryBatchesBefore = (await storedCodecs(retry, 2)).length

    down = false
    const result = await redrive({ kafka: await testKafka('test-compression-redrive'), deadLetterTopic: s.deadLetter, retryTopicSuffix: `.retry.${s.group}`, compression: kafkaCompressionType(name) })
    expect(result.redriven).toBe(12)
    await waitUntil('redriven events delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    expect(s.check(produced).orderViolations).toEqual([])
    const retryCodecs = await storedCodecs(retry, 2)
    expect(retryCodecs.length).toBeGreaterThan(retryBatchesBefore)
    expect(new Set(retryCodecs)).toEqual(new Set([id]))
  }, 120_000)

  it('an undecodable batch stops only its partition, with a clear error; nothing past it is committed; no crash loop', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 3 })
    const s = scenario
    const kafka = await testKafka('test-undecodable')
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    // Three rounds; each is one lz4 batch per partition. Account i lives on partition i % 3.
    const rounds: PreparedTransaction[][] = []
    try {
      for (let round = 0; round < 3; round++) {
        const prepared = await s.feed.prepareTransactions(s.source, { count: 30, accounts: 6 })
        await producer.send({
          topic: s.source,
          acks: -1,
          compression: kafkaCompressionType('lz4'),
          messages: prepared.map((p) => ({ ...p.message, partition: Number(p.message.key.slice(-6)) % 3 }))
        })
        rounds.push(prepared)
      }
    } finally {
      await producer.disconnect()
    }
    const partitionOf = (p: PreparedTransaction): number => Number(p.message.key.slice(-6)) % 3
    const [flipped, unknownCodec] = [(await storedBatches(s.source, 1))[1], (await storedBatches(s.source, 2))[1]]
    if (flipped === undefined || unknownCodec === undefined) throw new Error('expected three stored batches per partition')
    await damageBatch(flipped, { kind: 'flip-payload' })
    await damageBatch(unknownCodec, { kind: 'codec', id: 5 })

    const expected = rounds.flatMap((round, i) => round.filter((p) => i === 0 || partitionOf(p) === 0)).map((p) => p.produced)
    const blocked = rounds.flatMap((round, i) => round.filter((p) => i > 0 && partitionOf(p) !== 0)).map((p) => p.produced.eventId)
    const first = await s.start()
    await waitUntil('everything before the damaged batches delivered', () => s.check(expected).missing.length === 0, { timeoutMs: 60_000 })
    await waitUntil('two stopped partitions reported', async () => (await readMetric(first.metricsUrl, 'webhooks_stopped_partitions{reader="source"}')) === 2)
    expect(await readMetric(first.metricsUrl, 'webhooks_undecodable_batches_total{reader="source",codec="lz4"}')).toBe(1)
    expect(await readMetric(first.metricsUrl, 'webhooks_undecodable_batches_total{reader="source",codec="unknown-5"}')).toBe(1)
    const errorLines = first.output().split('\n').filter((line) => line.includes('undecodable record batch')).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(errorLines).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: 50, topic: s.source, partition: 1, offset: flipped.baseOffset.toString(), codec: 'lz4', reason: 'crc-mismatch' }),
      expect.objectContaining({ level: 50, topic: s.source, partition: 2, offset: unknownCodec.baseOffset.toString(), codec: 'unknown-5', reason: 'unsupported-codec' })
    ]))
    expect(errorLines.every((line) => (line.err as { code?: string }).code === 'WHD_ERR_UNDECODABLE_BATCH')).toBe(true)

    admin = kafka.admin()
    await admin.connect()
    const ends = new Map((await admin.fetchTopicOffsets(s.source)).map((p) => [p.partition, BigInt(p.high)]))
    const want = new Map([[0, ends.get(0)], [1, flipped.baseOffset], [2, unknownCodec.baseOffset]])
    const a = admin
    await waitUntil('offsets committed up to the damaged batches', async () => {
      const now = await committed(a, s.group, s.source)
      return [...want].every(([p, offset]) => now.get(p) === offset)
    })
    expect((await fetch(first.metricsUrl.replace('/metrics', '/readyz'))).status).toBe(200)
    expect(s.receivers.get('sub')?.accepted().filter((r) => blocked.includes(r.webhookId))).toEqual([])

    // A restart meets the same batches and stops the same partitions again, ready, not crashing.
    first.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const acceptedBefore = s.receivers.get('sub')?.accepted().length
    const second = await s.start()
    await waitUntil('the restarted instance stopped the same partitions', async () => (await readMetric(second.metricsUrl, 'webhooks_stopped_partitions{reader="source"}')) === 2)
    expect(second.child.exitCode).toBeNull()
    expect(s.receivers.get('sub')?.accepted().length).toBe(acceptedBefore)
    expect(await committed(a, s.group, s.source)).toEqual(want)
  }, 180_000)
})
