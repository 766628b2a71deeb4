import { afterAll, describe, expect, it } from 'vitest'
import { ConfigResourceTypes } from 'kafkajs'
import { bankingTopicSpecs, ensureTopics } from '../../../services/producer/src/index.js'
import { createTestTopics, uniqueTopic } from '../../support/kafka.js'

describe('ensureTopics', () => {
  const existing = uniqueTopic('test-topics-existing')
  const missing = uniqueTopic('test-topics-missing')
  let cleanup: (() => Promise<void>) | undefined

  afterAll(async () => {
    await cleanup?.()
  })

  it('creates missing topics with partitions and configs, and reports existing ones as they are', async () => {
    const created = await createTestTopics([{ topic: existing, numPartitions: 3 }, { topic: missing }])
    const { admin } = created
    // createTestTopics made both; remove one so ensureTopics has to create it, and
    // let the helper's cleanup delete whatever remains.
    cleanup = created.cleanup
    await admin.deleteTopics({ topics: [missing] })
    await expect.poll(async () => (await admin.listTopics()).includes(missing), { timeout: 15_000 }).toBe(false)

    const specs = [
      { topic: existing, numPartitions: 12 },
      { topic: missing, numPartitions: 6, configs: { 'retention.ms': '3600000' } }
    ]
    const first = await ensureTopics(admin, specs)
    expect(first).toEqual([
      { topic: existing, created: false, numPartitions: 3, requestedPartitions: 12 },
      { topic: missing, created: true, numPartitions: 6, requestedPartitions: 6 }
    ])
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: missing, configNames: ['retention.ms'] }]
    })
    expect(resources[0]?.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue).toBe('3600000')

    const second = await ensureTopics(admin, specs)
    expect(second.map((report) => [report.created, report.numPartitions])).toEqual([[false, 3], [false, 6]])
  })

  it('describes the banking topics with 12 partitions by default: one topic of every family', () => {
    expect(bankingTopicSpecs()).toEqual([{ topic: 'banking.account-events.v1', numPartitions: 12 }])
    expect(bankingTopicSpecs({ topic: 't', numPartitions: 3 })).toEqual([{ topic: 't', numPartitions: 3 }])
  })

  it('describes the three-topic layout when topics are given per family', () => {
    expect(bankingTopicSpecs({ topics: {} })).toEqual([
      { topic: 'banking.transactions.v1', numPartitions: 12 },
      { topic: 'banking.accounts.v1', numPartitions: 12 },
      { topic: 'banking.fraud-alerts.v1', numPartitions: 12 }
    ])
    expect(bankingTopicSpecs({ topics: { fraud: 'f' }, numPartitions: 3, replicationFactor: 3 })[2])
      .toEqual({ topic: 'f', numPartitions: 3, replicationFactor: 3 })
  })
})
