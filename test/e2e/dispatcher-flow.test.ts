import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { startDispatcher, writeSubscriptionsFile, readMetric, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createEventFeed, type EventFeed } from '../support/event-feed.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { checkDeliveries } from '../support/oracle.js'
import { waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

describe('dispatcher end to end', () => {
  const source = uniqueTopic('e2e-tx')
  const deadLetter = uniqueTopic('e2e-dlq')
  const group = uniqueTopic('e2e-group')
  const secret = generateSecret()
  let feed: EventFeed
  let cleanup: () => Promise<void>
  let receivers: TestReceiver[] = []
  let dispatcher: DispatcherProcess | undefined

  beforeAll(async () => {
    ;({ cleanup } = await createTestTopics([{ topic: source, numPartitions: 4 }]))
    feed = await createEventFeed()
  })

  afterAll(async () => {
    dispatcher?.kill('SIGKILL')
    await Promise.all(receivers.map((r) => r.close()))
    await feed?.close()
    await cleanup?.()
  })

  it('delivers every matching event, signed, in order per account, and nothing to non-matching subscriptions', async () => {
    const all = await startTestReceiver(secret)
    const posted = await startTestReceiver(secret)
    const otherTenant = await startTestReceiver(secret)
    receivers = [all, posted, otherTenant]
    const subs = [
      { id: 'sub-all', tenantId: 'tenant-000', url: all.url, eventTypes: ['transaction.*'], secrets: [secret] },
      { id: 'sub-posted', tenantId: 'tenant-000', url: posted.url, eventTypes: ['transaction.posted'], secrets: [secret] },
      { id: 'sub-other', tenantId: 'tenant-001', url: otherTenant.url, eventTypes: ['*'], secrets: [secret] }
    ]
    dispatcher = await startDispatcher({
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: deadLetter,
      KAFKA_GROUP_ID: group,
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile(subs)
    })
    const produced = await feed.publishTransactions(source, { count: 2000, accounts: 100, tenants: 2 })

    const report = () => checkDeliveries(produced, [
      { id: 'sub-all', tenantId: 'tenant-000', matches: (t) => t.startsWith('transaction.'), accepted: all.accepted() },
      { id: 'sub-posted', tenantId: 'tenant-000', matches: (t) => t === 'transaction.posted', accepted: posted.accepted() },
      { id: 'sub-other', tenantId: 'tenant-001', matches: () => true, accepted: otherTenant.accepted() }
    ])
    await waitUntil('every matching event delivered', () => report().missing.length === 0, { timeoutMs: 60_000 })
    const final = report()
    expect(final.expected).toBe(1000 + 250 + 1000)
    expect(final.orderViolations).toEqual([])
    expect(final.unexpected).toEqual([])
    expect(all.badSignatures + posted.badSignatures + otherTenant.badSignatures).toBe(0)
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_deliveries_total')).toBeGreaterThanOrEqual(2250)
  })
})
