import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { readMetric, startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createEventFeed, type EventFeed } from '../support/event-feed.js'
import { deleteTopicsIfPresent } from '../support/group-offsets.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { checkDeliveries, type OracleReport, type ProducedEvent } from '../support/oracle.js'
import { startPrivateKafka, type PrivateKafka } from '../support/private-kafka.js'
import { createScenario, seededRandom, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'
import { startTestReceiver, type Behaviour, type TestReceiver } from '../support/webhook-receiver.js'

const EVENTS = 20_000
const ACCOUNTS = 500
const PARTITIONS = 6
const MAX_IN_FLIGHT = 64
// The dispatcher's default (tests otherwise run at 200 ms): an interval well
// above a commit's round trip on a loaded machine keeps the bound below sound.
const COMMIT_INTERVAL_MS = 1000
const env = {
  MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
  ENDPOINT_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
  COMMIT_INTERVAL_MS: String(COMMIT_INTERVAL_MS),
  RETRY_SCHEDULE_MS: '100,200,400',
  // 10 % of answers are 500s on one endpoint; the circuit must not open on a run of them.
  CIRCUIT_FAILURE_THRESHOLD: '1000'
}

/** 10 % HTTP 500s, the rest 2xx after 0–20 ms, from a fixed seed. */
function tenPercentFailures (seed: number): Behaviour {
  const random = seededRandom(seed)
  return () => (random() < 0.1 ? { status: 500 } : { status: 204, delayMs: Math.floor(random() * 20) })
}

/** Deliveries the receiver accepted (2xx) in [from, to]. */
function acceptedBetween (receiver: TestReceiver, from: number, to: number): number {
  let n = 0
  for (const r of receiver.accepted()) if (r.receivedAt >= from && r.receivedAt <= to) n++
  return n
}

/**
 * C4's bound for a fault at `at`: the deliveries in flight (at most
 * MAX_IN_FLIGHT) plus those settled after the newest commit that reached
 * Kafka. That commit's snapshot is at most one COMMIT_INTERVAL_MS plus one
 * commit round trip old, and the round trip is taken to be under one more
 * interval (a tick that finds a commit still running skips); so: the
 * deliveries the receiver accepted in the 2 × COMMIT_INTERVAL_MS before the
 * fault, counted, not estimated. `oneInterval` is the same count over one
 * interval: measured on a kill -9, the duplicates come to about 1.6
 * intervals' worth (at 200 ms and at 1 s alike), more than "in flight plus
 * one interval", which the test prints for comparison.
 */
function duplicateBound (receiver: TestReceiver, at: number): { bound: number, oneInterval: number, twoIntervals: number } {
  const oneInterval = acceptedBetween(receiver, at - COMMIT_INTERVAL_MS, at)
  const twoIntervals = acceptedBetween(receiver, at - 2 * COMMIT_INTERVAL_MS, at)
  return { bound: MAX_IN_FLIGHT + twoIntervals, oneInterval, twoIntervals }
}

function expectWithinBound (report: OracleReport, bound: number, label: string): void {
  expect(report.missing).toEqual([])
  expect(report.orderViolations).toEqual([])
  expect(report.unexpected).toEqual([])
  expect(report.duplicates, `${label}: ${report.duplicates} duplicates, bound ${bound}`).toBeLessThanOrEqual(bound)
}

// Issue 11: order and duplicates hold through a broker restart and a
// dispatcher crash, mid-stream (C1, C2, C4).
describe('faults mid-stream', () => {
  let kafka: PrivateKafka | undefined
  let feed: EventFeed | undefined
  let receiver: TestReceiver | undefined
  let dispatcher: DispatcherProcess | undefined
  let scenario: Scenario | undefined
  afterEach(async () => {
    dispatcher?.kill('SIGKILL')
    await dispatcher?.exited
    await receiver?.close()
    await feed?.close().catch(() => undefined)
    await kafka?.close()
    const retry = scenario?.retry
    await scenario?.close()
    if (retry !== undefined) await deleteTopicsIfPresent([retry]).catch(() => undefined)
    kafka = undefined
    feed = undefined
    receiver = undefined
    dispatcher = undefined
    scenario = undefined
  })

  it('a broker kill -9 and restart: 0 lost, 0 order violations, duplicates within in-flight plus two commit intervals of deliveries', async () => {
    // A broker of this test's own: the shared one serves other test files.
    kafka = await startPrivateKafka()
    const brokers = kafka.brokers
    const source = uniqueTopic('e2e-src')
    await createTestTopics([{ topic: source, numPartitions: PARTITIONS }], { brokers })
    feed = await createEventFeed({ brokers })
    const secret = generateSecret()
    receiver = await startTestReceiver(secret, tenPercentFailures(11))
    const rx = receiver
    dispatcher = await startDispatcher({
      ...env,
      KAFKA_BROKERS: brokers.join(','),
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: uniqueTopic('e2e-dlq'),
      KAFKA_GROUP_ID: `e2e-group-${randomUUID()}`,
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub', tenantId: 'tenant-000', url: rx.url, eventTypes: ['*'], secrets: [secret] }])
    })
    const d = dispatcher

    const produced: ProducedEvent[] = await feed.publishTransactions(source, { count: EVENTS / 2, accounts: ACCOUNTS })
    await waitUntil('a third of the first half delivered', () => rx.acceptedIds() >= EVENTS / 6, { timeoutMs: 60_000, intervalMs: 20 })
    const stoppedAt = Date.now()
    // kill -9: the broker gets no chance to close connections or flush cleanly.
    await kafka.stop('SIGKILL')
    // The broker's port is closed; wait until the dispatcher has met the outage too.
    await waitUntil('the dispatcher meets the outage', async () =>
      (await readMetric(d.metricsUrl, 'webhooks_commit_failures_total')) > 0 || /ECONNREFUSED|Connection error|KafkaJSConnectionError/i.test(d.output()), { timeoutMs: 60_000, intervalMs: 200 })
    await kafka.start()
    // What the dispatcher settled while it could not commit must be committed
    // once the broker is back, not delivered again: the bound leaves it out.
    const acceptedDuringOutage = acceptedBetween(rx, stoppedAt, Date.now())
    const { bound, oneInterval, twoIntervals } = duplicateBound(rx, stoppedAt)
    produced.push(...await feed.publishTransactions(source, { count: EVENTS / 2, accounts: ACCOUNTS }))
    await waitUntil('every event delivered after the broker restart', () => checkDeliveries(produced, [{ id: 'sub', tenantId: 'tenant-000', matches: () => true, accepted: rx.accepted() }]).missing.length === 0, { timeoutMs: 180_000, intervalMs: 500 })

    const report = checkDeliveries(produced, [{ id: 'sub', tenantId: 'tenant-000', matches: () => true, accepted: rx.accepted() }])
    console.log(`broker kill -9 and restart: ${report.expected} expected deliveries, ${report.missing.length} missing, ${report.orderViolations.length} order violations, ${report.duplicates} duplicates, bound ${bound} (MAX_IN_FLIGHT ${MAX_IN_FLIGHT} + ${twoIntervals} accepted in the ${2 * COMMIT_INTERVAL_MS} ms before the stop (${oneInterval} in the last ${COMMIT_INTERVAL_MS} ms)); ${acceptedDuringOutage} accepted while the broker was down; dispatcher still running: ${d.child.exitCode === null}`)
    expect(d.child.exitCode).toBeNull()
    expectWithinBound(report, bound, 'broker restart')
  }, 300_000)

  it('a dispatcher kill -9 mid-stream and restart: 0 lost, 0 order violations, duplicates within in-flight plus two commit intervals of deliveries', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: tenPercentFailures(12) }], { partitions: PARTITIONS, env })
    const s = scenario
    const rx = s.receivers.get('sub') as TestReceiver
    const first = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: EVENTS / 2, accounts: ACCOUNTS })
    await waitUntil('a third of the first half delivered', () => rx.acceptedIds() >= EVENTS / 6, { timeoutMs: 60_000, intervalMs: 20 })
    const killedAt = Date.now()
    first.kill('SIGKILL')
    await first.exited
    const { bound, oneInterval, twoIntervals } = duplicateBound(rx, killedAt)
    await s.start()
    produced.push(...await s.feed.publishTransactions(s.source, { count: EVENTS / 2, accounts: ACCOUNTS }))
    await waitUntil('every event delivered after the restart', () => s.check(produced).missing.length === 0, { timeoutMs: 180_000, intervalMs: 500 })

    const report = s.check(produced)
    console.log(`dispatcher kill -9 and restart: ${report.expected} expected deliveries, ${report.missing.length} missing, ${report.orderViolations.length} order violations, ${report.duplicates} duplicates, bound ${bound} (MAX_IN_FLIGHT ${MAX_IN_FLIGHT} + ${twoIntervals} accepted in the ${2 * COMMIT_INTERVAL_MS} ms before the kill; ${oneInterval} in the last ${COMMIT_INTERVAL_MS} ms)`)
    expectWithinBound(report, bound, 'dispatcher kill -9')
  }, 300_000)
})
