// Connection pools per endpoint through the whole dispatcher (issue 14, C3):
// four subscriptions on one receiver host each reach ENDPOINT_MAX_IN_FLIGHT
// at once, and one whose requests hang leaves the others delivering.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createEventFeed, type EventFeed } from '../support/event-feed.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { startSharedOrigin, type SharedOrigin } from '../support/shared-origin.js'
import { waitUntil } from '../support/wait.js'

const CAP = 4
const ENDPOINTS = ['ep-a', 'ep-b', 'ep-c', 'ep-d']

describe('connection pools per endpoint, end to end', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  // A receiver origin holding the requests of `held`, a source topic of two
  // partitions and a feed, each closed after the test.
  async function setUp (name: string, held: string[]): Promise<{ origin: SharedOrigin, source: string, feed: EventFeed, secret: string }> {
    const origin = await startSharedOrigin()
    cleanups.push(origin.close)
    for (const path of held) origin.hold(`/${path}`, true)
    const source = uniqueTopic(name)
    const { cleanup } = await createTestTopics([{ topic: source, numPartitions: 2 }])
    cleanups.push(cleanup)
    const feed = await createEventFeed()
    cleanups.push(feed.close)
    return { origin, source, feed, secret: generateSecret() }
  }

  it('four endpoints on one host each reach their cap at once; one that hangs does not hold up the others', async () => {
    const { origin, source, feed, secret } = await setUp('e2e-pools', ENDPOINTS)
    const subscriptionsFile = await writeSubscriptionsFile(ENDPOINTS.map((name) => ({
      id: name, tenantId: 'tenant-000', url: origin.url(name), eventTypes: ['*'], secrets: [secret]
    })))
    const dispatcher: DispatcherProcess = await startDispatcher({
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: uniqueTopic('e2e-pools-dlq'),
      KAFKA_GROUP_ID: `e2e-pools-${randomUUID()}`,
      SUBSCRIPTIONS_FILE: subscriptionsFile,
      ENDPOINT_MAX_IN_FLIGHT: String(CAP),
      MAX_IN_FLIGHT: '64',
      // Held requests must outlast the test: their deadline would free the
      // sockets of a shared pool and hide the blocking this test looks for.
      DELIVERY_TIMEOUT_MS: '120000',
      ADMIN_REQUEST_TIMEOUT_MS: '120000'
    })
    cleanups.push(async () => {
      dispatcher.kill('SIGKILL')
      await dispatcher.exited
    })
    // 20 accounts: far more ready keys per endpoint than its cap.
    const produced = await feed.publishTransactions(source, { count: 40, accounts: 20 })

    // With one pool per origin sized by one endpoint's cap, only CAP requests
    // in all would reach the host.
    await waitUntil(`${CAP} requests of every endpoint held at once`, () =>
      ENDPOINTS.every((name) => origin.held.get(`/${name}`)?.length === CAP), { timeoutMs: 60_000 })
    expect(origin.connections().open).toBe(ENDPOINTS.length * CAP)

    // ep-a keeps hanging; the other three answer from now on.
    for (const name of ENDPOINTS.slice(1)) origin.hold(`/${name}`, false)
    await waitUntil('the three answering endpoints have every event', () =>
      ENDPOINTS.slice(1).every((name) => origin.answeredIds(`/${name}`) === produced.length), { timeoutMs: 60_000 })
    // All while ep-a's requests still hang, none given up: with a shared
    // pool the others would have waited for those sockets until the deadline.
    expect(origin.held.get('/ep-a')).toHaveLength(CAP)
    expect(origin.abandoned.get('/ep-a') ?? 0).toBe(0)
    expect(origin.answered.get('/ep-a') ?? 0).toBe(0)
    // Each endpoint stayed within its cap: never more sockets than 4 × CAP.
    expect(origin.connections().accepted).toBe(ENDPOINTS.length * CAP)

    origin.hold('/ep-a', false)
    await waitUntil('the hanging endpoint, answering again, has every event', () => origin.answeredIds('/ep-a') === produced.length, { timeoutMs: 60_000 })
  }, 240_000)

  it('SIGTERM while an endpoint never answers: exits 0 at its deadline rather than waiting out the attempts, and a restart delivers them', async () => {
    const { origin, source, feed, secret } = await setUp('e2e-pools-term', ['ep-a'])
    const env = {
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: uniqueTopic('e2e-pools-term-dlq'),
      KAFKA_GROUP_ID: `e2e-pools-term-${randomUUID()}`,
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'ep-a', tenantId: 'tenant-000', url: origin.url('ep-a'), eventTypes: ['*'], secrets: [secret] }]),
      ENDPOINT_MAX_IN_FLIGHT: String(CAP),
      // Attempts that outlast shutdown by far: before the fix, closing the
      // deliverer waited for them and the hard deadline exited 1.
      DELIVERY_TIMEOUT_MS: '120000',
      ADMIN_REQUEST_TIMEOUT_MS: '120000',
      SHUTDOWN_DEADLINE_MS: '1000'
    }
    const first: DispatcherProcess = await startDispatcher(env)
    cleanups.push(async () => {
      first.kill('SIGKILL')
      await first.exited
    })
    const produced = await feed.publishTransactions(source, { count: 20, accounts: 10 })
    await waitUntil(`${CAP} requests held`, () => origin.held.get('/ep-a')?.length === CAP, { timeoutMs: 60_000 })
    first.kill('SIGTERM')
    const code = await first.exited
    expect(code, first.output().split('\n').slice(-30).join('\n')).toBe(0)
    expect(first.output()).not.toMatch(/shutdown deadline passed/)

    origin.hold('/ep-a', false)
    const second: DispatcherProcess = await startDispatcher(env)
    cleanups.push(async () => {
      second.kill('SIGKILL')
      await second.exited
    })
    await waitUntil('every event delivered after the restart', () => origin.answeredIds('/ep-a') === produced.length, { timeoutMs: 60_000 })
  }, 240_000)
})
