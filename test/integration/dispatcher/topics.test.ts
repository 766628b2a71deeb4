import { randomUUID } from 'node:crypto'
import { ConfigResourceTypes, type Admin } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { retryRetriable } from '../../../services/dispatcher/src/retriable.js'
import { bootstrapTopics } from '../../../services/dispatcher/src/kafka/topics.js'
import { startDispatcher, writeSubscriptionsFile } from '../../support/dispatcher-process.js'
import { testKafka, uniqueTopic } from '../../support/kafka.js'

const retrySuffix = '.retry'
const layout = (sourceTopics: string[], deadLetterTopic: string): { sourceTopics: string[], retryTopicSuffix: string, deadLetterTopic: string } =>
  ({ sourceTopics, retryTopicSuffix: retrySuffix, deadLetterTopic })

describe('bootstrapTopics', () => {
  let admin: Admin
  // Every topic a test made or may have made the dispatcher make; deleted at the end.
  const made = new Set<string>()

  const createTopics = async (topics: Array<{ topic: string, numPartitions: number }>): Promise<void> => {
    for (const { topic } of topics) made.add(topic)
    await retryRetriable(() => admin.createTopics({ waitForLeaders: true, topics: topics.map((t) => ({ ...t, replicationFactor: 1 })) }))
  }

  const partitionCounts = async (topics: string[]): Promise<Record<string, number>> => {
    // Right after creation the broker can still answer "does not host this topic-partition".
    const { topics: metadata } = await retryRetriable(() => admin.fetchTopicMetadata({ topics }))
    return Object.fromEntries(metadata.map((t) => [t.name, t.partitions.length]))
  }

  beforeAll(async () => {
    admin = (await testKafka('test-bootstrap-topics')).admin()
    await admin.connect()
  })

  afterAll(async () => {
    try {
      const existing = new Set(await admin.listTopics())
      const topics = [...made].filter((t) => existing.has(t))
      if (topics.length > 0) await admin.deleteTopics({ topics })
    } finally {
      await admin.disconnect()
    }
  })

  it('creates each missing retry topic with its source\'s partition count, and the dead-letter topic', async () => {
    const a = uniqueTopic('test-boot-src')
    const b = uniqueTopic('test-boot-src')
    const deadLetter = uniqueTopic('test-boot-dlq')
    await createTopics([{ topic: a, numPartitions: 3 }, { topic: b, numPartitions: 5 }])
    for (const t of [`${a}${retrySuffix}`, `${b}${retrySuffix}`, deadLetter]) made.add(t)

    const report = await bootstrapTopics(admin, layout([a, b], deadLetter), { replicationFactor: 1 })

    expect([...report.created].sort()).toEqual([`${a}${retrySuffix}`, `${b}${retrySuffix}`, deadLetter].sort())
    expect(report.partitionsBySource).toEqual({ [a]: 3, [b]: 5 })
    expect(await partitionCounts([`${a}${retrySuffix}`, `${b}${retrySuffix}`, deadLetter])).toEqual({
      [`${a}${retrySuffix}`]: 3,
      [`${b}${retrySuffix}`]: 5,
      [deadLetter]: 6
    })
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: deadLetter, configNames: ['retention.ms'] }]
    })
    expect(resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue).toBe(String(30 * 24 * 3600 * 1000))
  })

  it('creates the dead-letter state topic compacted, with one partition (one order for redrive locks)', async () => {
    const source = uniqueTopic('test-boot-src')
    const deadLetter = uniqueTopic('test-boot-dlq')
    const state = uniqueTopic('test-boot-dl-state')
    await createTopics([{ topic: source, numPartitions: 2 }])
    for (const t of [`${source}${retrySuffix}`, deadLetter, state]) made.add(t)

    const report = await bootstrapTopics(admin, { ...layout([source], deadLetter), deadLetterStateTopic: state }, { replicationFactor: 1 })

    expect(report.created).toContain(state)
    expect(await partitionCounts([state])).toEqual({ [state]: 1 })
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: state, configNames: ['cleanup.policy', 'retention.ms'] }]
    })
    const entries = Object.fromEntries((resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]))
    expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '-1' })
    expect((await bootstrapTopics(admin, { ...layout([source], deadLetter), deadLetterStateTopic: state }, { replicationFactor: 1 })).created).toEqual([])
  })

  it('is idempotent: a second call creates nothing and changes no partition count', async () => {
    const source = uniqueTopic('test-boot-src')
    const deadLetter = uniqueTopic('test-boot-dlq')
    const retry = `${source}${retrySuffix}`
    await createTopics([{ topic: source, numPartitions: 4 }])
    made.add(retry)
    made.add(deadLetter)

    const first = await bootstrapTopics(admin, layout([source], deadLetter), { replicationFactor: 1 })
    expect([...first.created].sort()).toEqual([retry, deadLetter].sort())
    const second = await bootstrapTopics(admin, layout([source], deadLetter), { replicationFactor: 1 })
    expect(second).toEqual({ created: [], partitionsBySource: { [source]: 4 } })
    expect(await partitionCounts([source, retry, deadLetter])).toEqual({ [source]: 4, [retry]: 4, [deadLetter]: 6 })
  })

  it('refuses with WHD_ERR_TOPIC_LAYOUT naming the retry topic when its partition count differs, creating nothing', async () => {
    const source = uniqueTopic('test-boot-src')
    const retry = `${source}${retrySuffix}`
    const deadLetter = uniqueTopic('test-boot-dlq')
    made.add(deadLetter)
    await createTopics([{ topic: source, numPartitions: 4 }, { topic: retry, numPartitions: 2 }])

    const refusal = await bootstrapTopics(admin, layout([source], deadLetter), { replicationFactor: 1 }).then(
      () => { throw new Error('bootstrapTopics accepted a mismatched retry topic') },
      (err: unknown) => err
    )
    expect(refusal).toMatchObject({ name: 'TopicLayoutError', code: 'WHD_ERR_TOPIC_LAYOUT', retriable: false, topic: retry })
    expect((refusal as Error).message).toContain(`"${retry}"`)
    expect((refusal as Error).message).toMatch(/2 partitions.*4/)
    expect(await admin.listTopics()).not.toContain(deadLetter)
    expect(await partitionCounts([retry])).toEqual({ [retry]: 2 })
  })

  it('refuses with WHD_ERR_TOPIC_LAYOUT naming the source topic when a source topic is missing', async () => {
    const present = uniqueTopic('test-boot-src')
    const missing = uniqueTopic('test-boot-missing')
    const deadLetter = uniqueTopic('test-boot-dlq')
    made.add(`${present}${retrySuffix}`)
    made.add(`${missing}${retrySuffix}`)
    made.add(deadLetter)
    await createTopics([{ topic: present, numPartitions: 2 }])

    await expect(bootstrapTopics(admin, layout([present, missing], deadLetter), { replicationFactor: 1 })).rejects.toMatchObject({
      code: 'WHD_ERR_TOPIC_LAYOUT',
      topic: missing,
      message: expect.stringContaining(`"${missing}"`) as unknown
    })
    const topics = await admin.listTopics()
    expect(topics).not.toContain(`${missing}${retrySuffix}`)
    expect(topics).not.toContain(deadLetter)
  })

  it('refuses with WHD_ERR_CONFIG naming TOPIC_REPLICATION_FACTOR, a topic and the broker count when the cluster has too few brokers, creating nothing', async () => {
    const source = uniqueTopic('test-boot-src')
    const deadLetter = uniqueTopic('test-boot-dlq')
    made.add(`${source}${retrySuffix}`)
    made.add(deadLetter)
    await createTopics([{ topic: source, numPartitions: 2 }])
    const brokers = (await admin.describeCluster()).brokers.length

    await expect(bootstrapTopics(admin, layout([source], deadLetter), { replicationFactor: brokers + 2 })).rejects.toMatchObject({
      code: 'WHD_ERR_CONFIG',
      variable: 'TOPIC_REPLICATION_FACTOR',
      message: expect.stringMatching(new RegExp(`^TOPIC_REPLICATION_FACTOR: is ${brokers + 2}, but the Kafka cluster has ${brokers} broker.*"${source}${retrySuffix}"`)) as unknown
    })
    const topics = await admin.listTopics()
    expect(topics).not.toContain(`${source}${retrySuffix}`)
    expect(topics).not.toContain(deadLetter)
  })

  it('the dispatcher process refuses to start against a mismatched retry topic: non-zero exit, stderr names the topic', async () => {
    const source = uniqueTopic('test-boot-src')
    const group = `test-boot-group-${randomUUID()}`
    // The retry topic the dispatcher expects: RETRY_TOPIC_SUFFIX's default, per group.
    const retry = `${source}.retry.${group}`
    const deadLetter = uniqueTopic('test-boot-dlq')
    made.add(deadLetter)
    await createTopics([{ topic: source, numPartitions: 3 }, { topic: retry, numPartitions: 1 }])
    const subscriptionsFile = await writeSubscriptionsFile([])

    const dispatcher = await startDispatcher({
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: deadLetter,
      KAFKA_GROUP_ID: group,
      SUBSCRIPTIONS_FILE: subscriptionsFile
    }, { waitReady: false })
    let stderr = ''
    dispatcher.child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exitCode = await dispatcher.exited

    expect(exitCode, dispatcher.output()).not.toBe(0)
    expect(exitCode).not.toBeNull()
    expect(stderr).toContain('WHD_ERR_TOPIC_LAYOUT')
    expect(stderr).toContain(`"${retry}"`)
    expect(await admin.listTopics()).not.toContain(deadLetter)
  }, 60_000)
})
