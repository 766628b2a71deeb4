import { afterEach, describe, expect, it } from 'vitest'
import { readTopic, type DeadLetterView } from '../support/dead-letters.js'
import { readMetric } from '../support/dispatcher-process.js'
import { checkDeliveries, type OracleReport, type ProducedEvent } from '../support/oracle.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import type { ReceivedWebhook } from '../support/webhook-receiver.js'
import { waitUntil } from '../support/wait.js'

interface Letter { reason: string | undefined, subscriptionId: string | undefined, eventId: string }

async function deadLetters (s: Scenario): Promise<Letter[]> {
  const views: DeadLetterView[] = await readTopic(s.deadLetter).catch(() => [])
  return await Promise.all(views.map(async (view) => ({
    reason: view.headers['whd-dead-letter-reason'],
    subscriptionId: view.headers['whd-subscription-id'],
    eventId: (await s.feed.codec.decode(view.value)).event.eventId
  })))
}

/** The oracle over one subscription (that matches every event of its tenant). */
function checkOne (s: Scenario, subscriptionId: string, produced: readonly ProducedEvent[]): OracleReport {
  const receiver = s.receivers.get(subscriptionId)
  return checkDeliveries(produced, [{ id: subscriptionId, tenantId: 'tenant-000', matches: () => true, accepted: receiver?.accepted() ?? [] }])
}

/** Waits until `count` dead letters are written, then reads them. */
async function waitForDeadLetters (s: Scenario, metricsUrl: string, count: number): Promise<Letter[]> {
  await waitUntil(`${count} dead letters`, async () => (await readMetric(metricsUrl, 'webhooks_dead_letters_total')) >= count, { timeoutMs: 60_000 })
  return await deadLetters(s)
}

describe('dispatcher: 410 Gone and 429 Retry-After', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('410 Gone dead-letters the delivery (endpoint-gone) and disables the endpoint; later events are dead-lettered (endpoint-disabled) unattempted, while the tenant\'s other endpoint gets everything in order', async () => {
    scenario = await createScenario([
      // One request at a time, so "no request after the 410" is exact.
      { id: 'sub-gone', tenantId: 'tenant-000', eventTypes: ['*'], maxInFlight: 1, behaviour: () => ({ status: 410 }) },
      { id: 'sub-ok', tenantId: 'tenant-000', eventTypes: ['*'] }
    ], { env: { RETRY_SCHEDULE_MS: '100' } })
    const s = scenario
    const gone = s.receivers.get('sub-gone')
    const dispatcher = await s.start()

    const first = await s.feed.publishTransactions(s.source, { count: 40, accounts: 8 })
    await waitUntil('the first batch delivered to the other endpoint', () => checkOne(s, 'sub-ok', first).missing.length === 0, { timeoutMs: 60_000 })
    await waitForDeadLetters(s, dispatcher.metricsUrl, first.length)
    expect(gone?.received.map((r) => r.status)).toEqual([410])
    // Published after the endpoint is known to be disabled.
    const later = await s.feed.publishTransactions(s.source, { count: 40, accounts: 8 })
    const produced = [...first, ...later]
    await waitUntil('the later batch delivered to the other endpoint', () => checkOne(s, 'sub-ok', produced).missing.length === 0, { timeoutMs: 60_000 })
    const letters = await waitForDeadLetters(s, dispatcher.metricsUrl, produced.length)

    // Exactly one request reached the gone endpoint: the one answered 410.
    expect(gone?.received.map((r) => r.status)).toEqual([410])
    const goneId = gone?.received[0]?.webhookId
    expect(letters.filter((l) => l.reason === 'endpoint-gone')).toEqual([{ reason: 'endpoint-gone', subscriptionId: 'sub-gone', eventId: goneId }])
    const disabled = letters.filter((l) => l.reason === 'endpoint-disabled')
    expect(disabled).toHaveLength(produced.length - 1)
    expect(disabled.every((l) => l.subscriptionId === 'sub-gone')).toBe(true)
    // Every event of the gone endpoint is accounted for exactly once.
    expect(letters.map((l) => l.eventId).sort()).toEqual(produced.map((e) => e.eventId).sort())
    expect(new Set(later.map((e) => e.eventId)).has(goneId ?? '')).toBe(false)

    const report = checkOne(s, 'sub-ok', produced)
    expect(report.orderViolations).toEqual([])
    expect(report.duplicates).toBe(0)
    expect(report.unexpected).toEqual([])
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total{reason="endpoint-gone"}')).toBe(1)
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total{reason="endpoint-disabled"}')).toBe(produced.length - 1)
  }, 120_000)

  it('410 Gone on a retry dead-letters the parked head and disables the endpoint; the deliveries parked behind it are dead-lettered unattempted', async () => {
    scenario = await createScenario([
      // First attempt fails (503, no Retry-After), so the account's events park; the retry gets 410.
      { id: 'sub-gone', tenantId: 'tenant-000', eventTypes: ['*'], maxInFlight: 1, behaviour: ({ attempt }) => ({ status: attempt === 1 ? 503 : 410 }) },
      { id: 'sub-ok', tenantId: 'tenant-000', eventTypes: ['*'] }
    ], { partitions: 1, env: { RETRY_SCHEDULE_MS: '300' } })
    const s = scenario
    const gone = s.receivers.get('sub-gone')
    const dispatcher = await s.start()

    const produced = await s.feed.publishTransactions(s.source, { count: 10, accounts: 1 })
    await waitUntil('all delivered to the other endpoint', () => checkOne(s, 'sub-ok', produced).missing.length === 0, { timeoutMs: 60_000 })
    const letters = await waitForDeadLetters(s, dispatcher.metricsUrl, produced.length)

    const head = produced[0]?.eventId
    expect(gone?.received.map((r) => [r.webhookId, r.status])).toEqual([[head, 503], [head, 410]])
    expect(letters.map((l) => l.reason)).toEqual(['endpoint-gone', ...Array<string>(produced.length - 1).fill('endpoint-disabled')])
    // Dead-lettered in the account's order.
    expect(letters.map((l) => l.eventId)).toEqual(produced.map((e) => e.eventId))
    expect(checkOne(s, 'sub-ok', produced).orderViolations).toEqual([])
  }, 120_000)

  it('429 with Retry-After is retried, not dead-lettered, after the delay the endpoint asked for', async () => {
    const retryAfterSeconds = new Map<string, number>()
    scenario = await createScenario([{
      id: 'sub',
      tenantId: 'tenant-000',
      eventTypes: ['*'],
      behaviour: ({ webhookId, attempt }) => {
        const seconds = retryAfterSeconds.get(webhookId)
        return seconds !== undefined && attempt === 1 ? { status: 429, headers: { 'retry-after': String(seconds) } } : { status: 204 }
      }
    }], { partitions: 1, env: { RETRY_SCHEDULE_MS: '100' } })
    const s = scenario
    const receiver = s.receivers.get('sub')
    // Two accounts; the first event of each is throttled, for 1 s and 2 s.
    // Published before the dispatcher starts, so the plan is known in time.
    const produced = await s.feed.publishTransactions(s.source, { count: 10, accounts: 2 })
    const [throttled1, throttled2] = produced
    retryAfterSeconds.set(throttled1?.eventId ?? '', 1)
    retryAfterSeconds.set(throttled2?.eventId ?? '', 2)
    const dispatcher = await s.start()

    await waitUntil('all delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })

    const gap = (eventId: string | undefined): number => {
      const attempts = (receiver?.received ?? []).filter((r) => r.webhookId === eventId)
      expect(attempts.map((r) => r.status)).toEqual([429, 204])
      const [throttled, delivered] = attempts as [ReceivedWebhook, ReceivedWebhook]
      return delivered.receivedAt - throttled.receivedAt
    }
    const gap1 = gap(throttled1?.eventId)
    const gap2 = gap(throttled2?.eventId)
    // RETRY_SCHEDULE_MS is 100 ms: only Retry-After explains waits this long.
    expect(gap1).toBeGreaterThanOrEqual(900)
    expect(gap1).toBeLessThan(5000)
    expect(gap2).toBeGreaterThanOrEqual(1900)
    expect(gap2).toBeLessThan(6000)

    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(report.duplicates).toBe(0)
    expect(await readTopic(s.deadLetter)).toEqual([])
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total')).toBe(0)
  }, 120_000)

  it('429 with Retry-After on a retry (a parked delivery) also waits the delay the endpoint asked for', async () => {
    let failedAt: number | undefined
    scenario = await createScenario([{
      id: 'sub',
      tenantId: 'tenant-000',
      eventTypes: ['*'],
      behaviour: ({ attempt }) => {
        if (failedAt !== undefined) return { status: 204 }
        if (attempt === 1) return { status: 500 }
        failedAt = Date.now()
        return { status: 429, headers: { 'retry-after': '1' } }
      }
    }], { partitions: 1, env: { RETRY_SCHEDULE_MS: '100' } })
    const s = scenario
    const receiver = s.receivers.get('sub')
    await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: 3, accounts: 1 })
    await waitUntil('all delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })

    const head = produced[0]?.eventId
    const attempts = (receiver?.received ?? []).filter((r) => r.webhookId === head)
    expect(attempts.map((r) => r.status)).toEqual([500, 429, 204])
    const [, throttled, delivered] = attempts as [ReceivedWebhook, ReceivedWebhook, ReceivedWebhook]
    expect(delivered.receivedAt - throttled.receivedAt).toBeGreaterThanOrEqual(900)
    expect(delivered.receivedAt - throttled.receivedAt).toBeLessThan(5000)
    expect(s.check(produced).orderViolations).toEqual([])
    expect(await readTopic(s.deadLetter)).toEqual([])
  }, 120_000)
})
