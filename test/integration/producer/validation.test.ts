import type { Admin, Kafka } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventRegistry, deleteSubject, EventValidationError, type FamilyName } from '../../../services/events/src/index.js'
import { createBankingProducer, TopicMissingError, type BankingProducer } from '../../../services/producer/src/index.js'
import { accountStatusEvent, fraudAlertEvent, transactionEvent } from '../../unit/events/fixtures.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'

async function rejection (promise: Promise<unknown>): Promise<EventValidationError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(EventValidationError)
    return err as EventValidationError
  }
  throw new Error('expected the publish to be rejected')
}

describe('the banking producer refuses invalid events', () => {
  const topics: Record<FamilyName, string> = {
    transactions: uniqueTopic('test-val-tx'), accounts: uniqueTopic('test-val-acc'), fraud: uniqueTopic('test-val-fraud')
  }
  let registryUrl: string
  let kafka: Kafka
  let admin: Admin
  let cleanup: () => Promise<void>
  let producer: BankingProducer

  async function highWatermarks (): Promise<string[]> {
    const marks: string[] = []
    for (const topic of Object.values(topics)) {
      for (const { high } of await admin.fetchTopicOffsets(topic)) marks.push(high)
    }
    return marks
  }

  beforeAll(async () => {
    registryUrl = (await testStack()).registryUrl
    ;({ admin, cleanup } = await createTestTopics(Object.values(topics).map((topic) => ({ topic, numPartitions: 3 }))))
    kafka = await testKafka('test-validation')
    producer = createBankingProducer({ kafka, registry: createEventRegistry({ url: registryUrl }), topics })
    await producer.connect()
  })

  afterAll(async () => {
    await producer?.disconnect()
    await cleanup?.()
    await Promise.all(Object.values(topics).map(async (topic) => await deleteSubject({ url: registryUrl }, `${topic}-value`)))
  })

  it('names the field and writes nothing', async () => {
    const amount = await rejection(producer.publishTransaction(transactionEvent({ amount: '10.12345' })))
    expect(amount.code).toBe('WHE_ERR_VALIDATION')
    expect(amount.field).toBe('amount')
    expect(amount.message).toMatch(/\bamount\b.*fraction digits/)

    const mcc = await rejection(producer.publishTransaction(transactionEvent({ merchant: { name: 'Shop', mcc: 'groceries' } })))
    expect(mcc.field).toBe('merchant.mcc')
    expect(mcc.message).toContain('merchant.mcc')

    const score = await rejection(producer.publishFraudAlert(fraudAlertEvent({ riskScore: 5000 })))
    expect(score.field).toBe('riskScore')

    const wrongFamily = await rejection(producer.publishTransaction(accountStatusEvent() as never))
    expect(wrongFamily.field).toBe('eventType')

    // One bad event in a batch: the good ones are not written either.
    const batch = await rejection(producer.publishMany([
      transactionEvent(),
      accountStatusEvent(),
      fraudAlertEvent({ reasonCodes: ['VELOCITY', ''] })
    ]))
    expect(batch.field).toBe('reasonCodes.1')

    expect(await highWatermarks()).toEqual(Array(9).fill('0'))
  })

  it('writes a valid event to the same topics (the check above can fail)', async () => {
    const result = await producer.publishTransaction(transactionEvent())
    expect(result).toMatchObject({ family: 'transactions', topic: topics.transactions, offset: '0', accountId: 'acc-000123' })
    expect(await highWatermarks()).toContain('1')
  })

  it('refuses to start when a topic is missing', async () => {
    const missing = createBankingProducer({
      kafka, registry: createEventRegistry({ url: registryUrl }), topics: { ...topics, fraud: uniqueTopic('test-val-missing') }
    })
    await expect(missing.connect()).rejects.toBeInstanceOf(TopicMissingError)
    await missing.disconnect()
  })
})
