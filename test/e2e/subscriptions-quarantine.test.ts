// Issue 13 item 3 end to end: one subscriptions record encrypted under a key
// the dispatcher does not have no longer stops it from starting. Its
// endpoint is quarantined (metric, refusal counted), its events are
// dead-lettered as endpoint-quarantined, and the tenant's other endpoint
// gets everything.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createSsrfPolicy } from '../../services/dispatcher/src/delivery/ssrf.js'
import { createSecretCipher } from '../../services/dispatcher/src/subscriptions/crypto.js'
import { TopicSubscriptionStore } from '../../services/dispatcher/src/subscriptions/topic-store.js'
import { readTopic } from '../support/dead-letters.js'
import { readMetric } from '../support/dispatcher-process.js'
import { testKafka, uniqueTopic } from '../support/kafka.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

describe('dispatcher: a subscriptions record it cannot decrypt', () => {
  let scenario: Scenario | undefined
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it('starts, quarantines that endpoint (metric, refusal counted), dead-letters its events as endpoint-quarantined and delivers the rest', async () => {
    const subscriptionsTopic = uniqueTopic('e2e-subscriptions')
    const kafka = await testKafka('e2e-quarantine')
    cleanups.push(async () => {
      const admin = kafka.admin()
      await admin.connect()
      try {
        await admin.deleteTopics({ topics: [subscriptionsTopic] })
      } finally {
        await admin.disconnect()
      }
    })
    // Written the real way, by a store holding a key the dispatcher will not have.
    const writer = new TopicSubscriptionStore({
      kafka,
      cipher: createSecretCipher([{ id: 'lost', key: randomBytes(32) }], 'lost'),
      ssrf: createSsrfPolicy({}),
      topic: subscriptionsTopic,
      replicationFactor: 1,
      groupIdPrefix: 'e2e-quarantine-writer'
    })
    await writer.start()
    let quarantinedId: string
    try {
      quarantinedId = (await writer.create({ tenantId: 'tenant-000', url: 'https://hooks.example.com/in', eventTypes: ['*'] })).subscription.id
    } finally {
      await writer.close()
    }

    scenario = await createScenario([{ id: 'sub-ok', tenantId: 'tenant-000', eventTypes: ['*'] }], { env: { SUBSCRIPTIONS_TOPIC: subscriptionsTopic } })
    const s = scenario
    // start() waits for /readyz: the instance started.
    const dispatcher = await s.start()
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_quarantined_subscriptions')).toBe(1)
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_subscription_records_refused_total{reason="undecryptable"}')).toBe(1)

    const produced = await s.feed.publishTransactions(s.source, { count: 20, accounts: 4 })
    await waitUntil('all delivered to the readable endpoint', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    await waitUntil('every event of the quarantined endpoint dead-lettered', async () => (await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total{reason="endpoint-quarantined"}')) >= produced.length, { timeoutMs: 60_000 })
    const letters = await readTopic(s.deadLetter)
    expect(letters.map((l) => [l.headers['whd-dead-letter-reason'], l.headers['whd-subscription-id']])).toEqual(produced.map(() => ['endpoint-quarantined', quarantinedId]))
    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
  }, 120_000)
})
