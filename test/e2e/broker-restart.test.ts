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
import { committedRecords, eventIdsPastCommit } from '../support/unsettled.js'
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
 * interval, printed for comparison. The broker restart asserts this bound
 * (its dispatcher lives on, and a broker restart has left 0 duplicates in
 * every run so far); the kill -9 only prints it: its round trip includes
 * the history flush, and on a loaded CI machine the duplicates once came to
 * 3,777 against a bound of 3,415, so there the test checks C4's own
 * statement, against the offsets the group had committed.
 */
function duplicateBound (receiver: TestReceiver, at: number): { bound: number, oneInterval: number, twoIntervals: number } {
  const oneInterval = acceptedBetween(receiver, at - COMMIT_INTERVAL_MS, at)
  const twoIntervals = acceptedBetween(receiver, at - 2 * COMMIT_INTERVAL_MS, at)
  return { bound: MAX_IN_FLIGHT + twoIntervals, oneInterval, twoIntervals }
}

/** Webhook ids the receiver accepted more than once. */
function acceptedAgain (receiver: TestReceiver): string[] {
  const seen = new Set<string>()
  const again = new Set<string>()
  for (const r of receiver.accepted()) {
    if (seen.has(r.webhookId)) again.add(r.webhookId)
    seen.add(r.webhookId)
  }
  return [...again]
}

/**
 * Mid-stream, not start-up: a fault before the group's first commit lands
 * redelivers everything delivered so far, which C4 allows (all of it was
 * unsettled) but which says nothing about the commits that keep duplicates
 * bounded. A group whose commits stall never gets here, and the test fails.
 */
async function awaitMidStream (receiver: TestReceiver, group: string, topic: string, brokers?: string[]): Promise<void> {
  await waitUntil('a third of the first half delivered', () => receiver.acceptedIds() >= EVENTS / 6, { timeoutMs: 60_000, intervalMs: 20 })
  await waitUntil('commits past half of that', async () => await committedRecords(group, topic, brokers === undefined ? {} : { brokers }) >= EVENTS / 12, { timeoutMs: 60_000, intervalMs: 50 })
}

/** C1 and C2: every event delivered, first receipts in order per account, nothing foreign. */
function expectNoneLostNoneOutOfOrder (report: OracleReport): void {
  expect(report.missing).toEqual([])
  expect(report.orderViolations).toEqual([])
  expect(report.unexpected).toEqual([])
}

function expectWithinBound (report: OracleReport, bound: number, label: string): void {
  expectNoneLostNoneOutOfOrder(report)
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
    const group = `e2e-group-${randomUUID()}`
    dispatcher = await startDispatcher({
      ...env,
      KAFKA_BROKERS: brokers.join(','),
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: uniqueTopic('e2e-dlq'),
      KAFKA_GROUP_ID: group,
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub', tenantId: 'tenant-000', url: rx.url, eventTypes: ['*'], secrets: [secret] }])
    })
    const d = dispatcher

    const produced: ProducedEvent[] = await feed.publishTransactions(source, { count: EVENTS / 2, accounts: ACCOUNTS })
    await awaitMidStream(rx, group, source, brokers)
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

  it('a dispatcher kill -9 mid-stream and restart: 0 lost, 0 order violations, only what was unsettled at the kill delivered again', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: tenPercentFailures(12) }], { partitions: PARTITIONS, env })
    const s = scenario
    const rx = s.receivers.get('sub') as TestReceiver
    const first = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: EVENTS / 2, accounts: ACCOUNTS })
    await awaitMidStream(rx, s.group, s.source)
    const killedAt = Date.now()
    first.kill('SIGKILL')
    await first.exited
    const { bound, oneInterval, twoIntervals } = duplicateBound(rx, killedAt)
    // Read before the successor starts: what the group had committed when its member died.
    const unsettled = await eventIdsPastCommit(s.group, [s.source, s.retry], s.feed.codec)
    const acceptedBeforeKill = rx.accepted().length
    const deliveredUnsettled = new Set(rx.accepted().map((r) => r.webhookId).filter((id) => unsettled.has(id))).size
    await s.start()
    produced.push(...await s.feed.publishTransactions(s.source, { count: EVENTS / 2, accounts: ACCOUNTS }))
    await waitUntil('every event delivered after the restart', () => s.check(produced).missing.length === 0, { timeoutMs: 180_000, intervalMs: 500 })

    const report = s.check(produced)
    const again = acceptedAgain(rx)
    console.log(`dispatcher kill -9 and restart: ${report.expected} expected deliveries, ${report.missing.length} missing, ${report.orderViolations.length} order violations, ${report.duplicates} duplicates of ${acceptedBeforeKill} accepted before the kill, ${deliveredUnsettled} of them unsettled at the kill (past the group's commit on the source or retry topic); for scale: MAX_IN_FLIGHT ${MAX_IN_FLIGHT} + ${twoIntervals} accepted in the ${2 * COMMIT_INTERVAL_MS} ms before the kill = ${bound}, ${oneInterval} in the last ${COMMIT_INTERVAL_MS} ms`)
    expectNoneLostNoneOutOfOrder(report)
    // C4 itself: a redelivery is of an event its group had not settled. How
    // many that is depends on how far the last commit trailed the kill, which
    // a loaded machine stretches; bench/ is where timing is measured.
    expect(again.length).toBeGreaterThan(0)
    expect(again.filter((id) => !unsettled.has(id))).toEqual([])
  }, 300_000)
})
