// Past RETRY_MAX_PARKED_IN_MEMORY a retry lane holds parked items without
// their bytes and reads them again from the retry partition when they
// become their key's head (issue 14). Before, it stopped reading there, and
// everything parked behind the cap waited for the down endpoint's items to
// drain — another endpoint's retries on the same partition included.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { readMetric, startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createEventFeed } from '../support/event-feed.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { checkDeliveries } from '../support/oracle.js'
import { scaled, waitUntil } from '../support/wait.js'
import { startTestReceiver } from '../support/webhook-receiver.js'

const EVENTS = 300
const ACCOUNTS = 20
/** Items held with their bytes per retry partition: far fewer than are parked. */
const WITH_BYTES = 10

describe('parked items past RETRY_MAX_PARKED_IN_MEMORY', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('another endpoint\'s retries on the same partition go on while one endpoint is down, and the down one\'s backlog drains in order', async () => {
    const secret = generateSecret()
    // Down: 503 to everything until it is fixed. Flaky: 503 to each first attempt, then 204.
    const down = await startTestReceiver(secret, () => ({ status: 503 }))
    const flaky = await startTestReceiver(secret, ({ attempt }) => ({ status: attempt === 1 ? 503 : 204 }))
    cleanups.push(down.close, flaky.close)
    const source = uniqueTopic('e2e-without-bytes')
    const { cleanup } = await createTestTopics([{ topic: source, numPartitions: 1 }])
    cleanups.push(cleanup)
    const feed = await createEventFeed()
    cleanups.push(feed.close)
    const subscriptions = [
      { id: 'down', tenantId: 'tenant-000', url: down.url, eventTypes: ['*'], secrets: [secret] },
      { id: 'flaky', tenantId: 'tenant-000', url: flaky.url, eventTypes: ['*'], secrets: [secret] }
    ]
    const dispatcher: DispatcherProcess = await startDispatcher({
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: uniqueTopic('e2e-without-bytes-dlq'),
      KAFKA_GROUP_ID: `e2e-without-bytes-${randomUUID()}`,
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile(subscriptions),
      RETRY_MAX_PARKED_IN_MEMORY: String(WITH_BYTES),
      RETRY_SCHEDULE_MS: '200,500',
      // The down endpoint keeps being tried (no open circuit holding it), so
      // its heads keep failing and its backlog keeps waiting.
      CIRCUIT_FAILURE_THRESHOLD: '10000'
    })
    cleanups.push(async () => {
      dispatcher.kill('SIGKILL')
      await dispatcher.exited
    })
    const produced = await feed.publishTransactions(source, { count: EVENTS, accounts: ACCOUNTS })

    // Every delivery to both endpoints failed once and was parked on the one
    // retry partition, interleaved. The flaky endpoint's retries lie behind
    // far more of the down endpoint's items than are held with their bytes.
    await waitUntil('the flaky endpoint has every event while the other is still down', () => flaky.acceptedIds() === EVENTS, { timeoutMs: 120_000 })
    expect(down.acceptedIds()).toBe(0)
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_parked_backlog')).toBeGreaterThan(WITH_BYTES * 10)

    down.setBehaviour(() => ({ status: 204 }))
    await waitUntil('the down endpoint, fixed, has every event', () => down.acceptedIds() === EVENTS, { timeoutMs: 120_000 })
    const report = checkDeliveries(produced, subscriptions.map((s, i) => ({ id: s.id, tenantId: s.tenantId, matches: () => true, accepted: (i === 0 ? down : flaky).accepted() })))
    expect([report.missing, report.unexpected, report.orderViolations, report.duplicates]).toEqual([[], [], [], 0])
    expect(down.badSignatures + flaky.badSignatures).toBe(0)
  }, scaled(300_000))
})
