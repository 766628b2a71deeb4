// The admin API's dead-letter operations on a real Kafka: paging beyond 200
// with counts, and a redrive refused while an overlapping one holds its lock
// on the state topic (as one running through another instance, or the CLI,
// does).
import { randomUUID } from 'node:crypto'
import type { Admin, Kafka } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeLock } from '../../../services/dispatcher/src/redrive/lifecycle-topic.js'
import { createKafkaDeadLetters } from '../../../services/dispatcher/src/redrive/kafka-dead-letters.js'
import { redrive } from '../../../services/dispatcher/src/redrive/run.js'
import { toDeadLetterRecord } from '../../../services/dispatcher/src/engine/parked-record.js'
import type { DeadLetterPosition } from '../../../services/dispatcher/src/dead-letters/page.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'

describe('dead letters on Kafka', () => {
  const source = uniqueTopic('it-dl-source')
  const deadLetterTopic = uniqueTopic('it-dl')
  const stateTopic = uniqueTopic('it-dl-state')
  const retry = `${source}.retry`
  let kafka: Kafka
  let admin: Admin
  let cleanup: () => Promise<void>

  beforeAll(async () => {
    ;({ admin, cleanup } = await createTestTopics([
      { topic: source, numPartitions: 3 },
      { topic: retry, numPartitions: 3 },
      { topic: deadLetterTopic, numPartitions: 3 }
    ]))
    kafka = await testKafka('it-dead-letters')
    const producer = kafka.producer()
    await producer.connect()
    // 250 letters of two subscriptions over three partitions; every fifth is endpoint-disabled.
    await producer.send({
      topic: deadLetterTopic,
      messages: Array.from({ length: 250 }, (_, i) => ({
        ...toDeadLetterRecord({
          source: { topic: source, partition: i % 3, offset: BigInt(i) },
          record: { key: Buffer.from(`acc-${i % 7}`), value: Buffer.from([0, 0, 0, 0, 1]), headers: {}, timestamp: 1 },
          subscriptionId: i < 200 ? 'sub-a' : 'sub-b',
          attempts: 3
        }, i % 5 === 0 ? 'endpoint-disabled' : 'retries-exhausted', 1_000 + i),
        partition: i % 3
      }))
    })
    await producer.disconnect()
  })

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [stateTopic] }).catch(() => undefined)
    await cleanup?.()
  })

  it('lists more than 200 letters a page at a time, each once, with counts over all of them', async () => {
    const operations = createKafkaDeadLetters({ kafka, deadLetterTopic, stateTopic, retryTopicSuffix: '.retry', compression: 0 })
    const ids: string[] = []
    const sizes: number[] = []
    let after: DeadLetterPosition | undefined
    for (;;) {
      const page = await operations.list({}, { limit: 200, ...(after === undefined ? {} : { after }) })
      expect(page).toMatchObject({ total: 250, countByReason: { 'endpoint-disabled': 50, 'retries-exhausted': 200 }, countByState: { dead: 250 } })
      sizes.push(page.items.length)
      ids.push(...page.items.map((letter) => letter.id))
      if (page.next === undefined) break
      after = page.next
    }
    expect(sizes).toEqual([200, 50])
    expect(new Set(ids).size).toBe(250)
    const b = await operations.list({ subscriptionIds: ['sub-b'] }, { limit: 200 })
    expect(b).toMatchObject({ total: 50, countByReason: { 'endpoint-disabled': 10, 'retries-exhausted': 40 } })
    expect(b.next).toBeUndefined()
  })

  it('refuses a redrive while an overlapping one holds its lock, writing nothing; a disjoint one runs', async () => {
    const producer = kafka.producer()
    await producer.connect()
    const running = randomUUID()
    try {
      await redrive({ kafka, deadLetterTopic, retryTopicSuffix: '.retry', stateTopic, filter: {}, dryRun: true })
      await writeLock(producer, stateTopic, running, { redriveId: running, redrivenAt: Date.now(), redrivenBy: 'cli:elsewhere', filter: { subscriptionIds: ['sub-a'] }, heartbeatAt: Date.now() })
      const before = await admin.fetchTopicOffsets(retry)
      await expect(redrive({ kafka, deadLetterTopic, retryTopicSuffix: '.retry', stateTopic, filter: { accountIds: ['acc-1'] } }))
        .rejects.toMatchObject({ code: 'WHD_ERR_REDRIVE_CONFLICT', runningRedriveId: running })
      expect(await admin.fetchTopicOffsets(retry)).toEqual(before)
      // A dry run writes nothing and takes no lock: it is never refused.
      expect(await redrive({ kafka, deadLetterTopic, retryTopicSuffix: '.retry', stateTopic, filter: {}, dryRun: true })).toMatchObject({ matched: 250, redriven: 250 })
      const disjoint = await redrive({ kafka, deadLetterTopic, retryTopicSuffix: '.retry', stateTopic, filter: { subscriptionIds: ['sub-b'] }, by: 'test' })
      expect(disjoint).toMatchObject({ matched: 50, redriven: 50, complete: true })
      // Once the lock is gone, the refused redrive runs; sub-b's letters are not redriven twice.
      await writeLock(producer, stateTopic, running, undefined)
      const all = await redrive({ kafka, deadLetterTopic, retryTopicSuffix: '.retry', stateTopic, filter: {}, by: 'test' })
      expect(all).toMatchObject({ matched: 250, redriven: 200, skipped: 50, skippedByReason: { 'already-redriven': 50 } })
    } finally {
      await producer.disconnect()
    }
  })
})
