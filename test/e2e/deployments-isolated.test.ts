import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { readMetric, startDispatcher, writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { deleteTopicsIfPresent, groupLag } from '../support/group-offsets.js'
import { checkDeliveries } from '../support/oracle.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

const EVENTS = 5000
const ACCOUNTS = 200

// Issue 11, DESIGN C8: two deployments (consumer groups) on the same source
// topics share no retry state. Deployment A's endpoint is down, so A parks
// every event on its retry topic and dies holding them; deployment B has a
// subscription with the same id and tenant pointing at a healthy endpoint.
// Were B to read A's retry topic, it would deliver A's parked items a second
// time (same webhook-id, same subscription id): duplicates, and possibly
// order violations, on B's receiver.
describe('deployments on the same source topics', () => {
  let scenario: Scenario | undefined
  let receiverB: TestReceiver | undefined
  const extraTopics: string[] = []
  afterEach(async () => {
    await scenario?.close()
    await receiverB?.close()
    await deleteTopicsIfPresent(extraTopics.splice(0)).catch(() => undefined)
    scenario = undefined
    receiverB = undefined
  })

  it('one with a down endpoint leaves the other 0 foreign deliveries and 0 duplicates (C8)', async () => {
    scenario = await createScenario([
      { id: 'sub-1', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => ({ status: 503 }) }
    ], {
      partitions: 4,
      // Short retries and no circuit breaker: A's heads fail again and again.
      env: { RETRY_SCHEDULE_MS: '100,200,400', CIRCUIT_FAILURE_THRESHOLD: '10000' }
    })
    const s = scenario
    extraTopics.push(s.retry)
    const receiverA = s.receivers.get('sub-1') as TestReceiver
    const a = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: EVENTS, accounts: ACCOUNTS })

    await waitUntil(`A parked all ${EVENTS} events`, async () =>
      (await readMetric(a.metricsUrl, 'webhooks_settled_total{outcome="parked",lane="source"}')) >= EVENTS, { timeoutMs: 90_000, intervalMs: 250 })
    await waitUntil('every head of A failed at least three times', () => {
      const heads = headAttempts(receiverA)
      return heads.size === ACCOUNTS && [...heads.values()].every((n) => n >= 3)
    }, { timeoutMs: 60_000, intervalMs: 250 })
    const parkedByA = await groupLag(s.group, s.retry)
    expect(parkedByA.total).toBeGreaterThanOrEqual(EVENTS)
    a.kill('SIGKILL')
    await a.exited
    const receivedByA = receiverA.received.length
    const retryEndsOfA = parkedByA.partitions.map((p) => p.end)
    expect((await groupLag(s.group, s.retry)).partitions.map((p) => p.end)).toEqual(retryEndsOfA)

    // Deployment B: same source topic, same subscription id and tenant, a healthy endpoint.
    const groupB = `e2e-group-b-${randomUUID()}`
    const secret = generateSecret()
    receiverB = await startTestReceiver(secret)
    const rb = receiverB
    extraTopics.push(`${s.source}.retry.${groupB}`)
    const b = await startDispatcher({
      SOURCE_TOPICS: s.source,
      DEAD_LETTER_TOPIC: s.deadLetter,
      KAFKA_GROUP_ID: groupB,
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-1', tenantId: 'tenant-000', url: rb.url, eventTypes: ['*'], secrets: [secret] }])
    })
    s.dispatchers.push(b)
    await waitUntil('B delivered every event', () => rb.acceptedIds() >= EVENTS, { timeoutMs: 90_000, intervalMs: 250 })
    // Settled and committed to the end of the source: anything B would still
    // do with these events (a read of A's parked items included) has been done.
    await waitUntil('B committed the end of the source topic', async () => (await groupLag(groupB, s.source)).total === 0, { timeoutMs: 30_000, intervalMs: 250 })
    await waitUntil('B holds nothing parked', async () => (await readMetric(b.metricsUrl, 'webhooks_parked_backlog')) === 0, { timeoutMs: 30_000, intervalMs: 250 })

    const report = checkDeliveries(produced, [{ id: 'sub-1', tenantId: 'tenant-000', matches: () => true, accepted: rb.accepted() }])
    console.log(`deployments isolated: A parked ${parkedByA.total} records on ${s.retry}; B: ${report.expected} expected, ${report.missing.length} missing, ${report.duplicates} duplicates, ${report.orderViolations.length} order violations, ${report.unexpected.length} unexpected`)
    expect(report.expected).toBe(EVENTS)
    expect(report.missing).toEqual([])
    expect(report.duplicates).toBe(0)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    // B delivered only once per event: every request B made was answered 2xx once.
    expect(rb.received.length).toBe(EVENTS)
    // A's endpoint got nothing from B, and B neither read nor wrote A's retry topic.
    expect(receiverA.received.length).toBe(receivedByA)
    const bOnRetryOfA = await groupLag(groupB, s.retry)
    expect(bOnRetryOfA.committedAny).toBe(false)
    expect(bOnRetryOfA.partitions.map((p) => p.end)).toEqual(retryEndsOfA)
  }, 240_000)
})

/** Per account, the most attempts the receiver saw of one webhook id (its head's, for a blocked account). */
function headAttempts (receiver: TestReceiver): Map<string, number> {
  const byId = new Map<string, { accountId: string, n: number }>()
  for (const r of receiver.received) {
    const seen = byId.get(r.webhookId) ?? { accountId: r.accountId, n: 0 }
    seen.n++
    byId.set(r.webhookId, seen)
  }
  const byAccount = new Map<string, number>()
  for (const { accountId, n } of byId.values()) byAccount.set(accountId, Math.max(byAccount.get(accountId) ?? 0, n))
  return byAccount
}
