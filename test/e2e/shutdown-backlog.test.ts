import { afterEach, describe, expect, it } from 'vitest'
import { MAX_TRACKED_OFFSETS } from '../../services/dispatcher/src/engine/settled-offsets.js'
import { readMetric, type DispatcherProcess } from '../support/dispatcher-process.js'
import { deleteTopicsIfPresent, groupLag, type TopicLag } from '../support/group-offsets.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { scaled, waitUntil } from '../support/wait.js'
import type { Behaviour, TestReceiver } from '../support/webhook-receiver.js'

// Parked items whose heads wait in a long backoff (≥ 50,000 by default).
const DOWN_EVENTS = Number(process.env.E2E_BACKLOG_EVENTS ?? 50_000)
// Three partitions put some 23,000 parked records on each retry partition
// (at the default size): deeper than the 16,000 offsets above its commit
// that the commit metadata can mark settled (MAX_TRACKED_OFFSETS), so what
// a restart skips must come from the commit position itself.
const PARTITIONS = 3
// Of every 7 accounts, 5 are "down" (their endpoint answers 503 to every
// attempt) and 2 "flaky" (503 to each event's first attempt, then 2xx).
// The feed deals events round-robin over accounts, so down and flaky events
// interleave in every partition.
const DOWN_ACCOUNTS = 2500
const ACCOUNTS = DOWN_ACCOUNTS * 7 / 5
const EVENTS_PER_ACCOUNT = Math.max(1, Math.round(DOWN_EVENTS / DOWN_ACCOUNTS))
const EVENTS = ACCOUNTS * EVENTS_PER_ACCOUNT
// One quick retry (1 s), then every head waits 10 minutes: far beyond the test.
const env = {
  RETRY_SCHEDULE_MS: '1000,600000',
  // A flaky event must get its 2xx on its second attempt: one more failure
  // puts it, and every later event of its account, behind the 10-minute
  // step. On a loaded machine the receiver (in this test's process) can take
  // seconds to answer, and a timed-out attempt is a failure; so the
  // deadlines here are far beyond any answer it gives.
  CONNECT_TIMEOUT_MS: '60000',
  DELIVERY_TIMEOUT_MS: '120000',
  ADMIN_REQUEST_TIMEOUT_MS: '120000',
  // One endpoint serves both sets; its circuit must not open on the down accounts' failures.
  CIRCUIT_FAILURE_THRESHOLD: '10000',
  // Every waiting item is held in memory, so the retry lanes read to the end.
  RETRY_MAX_PARKED_IN_MEMORY: String(Math.max(20_000, EVENTS)),
  SHUTDOWN_DEADLINE_MS: '60000',
  // The attempts are written (commits wait for them, as always), but not
  // indexed: this test is about commits under a deep backlog, and indexing
  // its 200,000 history records would only share the 2 cores with it.
  HISTORY_STORE: 'none'
}
// What "lag equals the items really waiting" may be off by, per retry
// partition: a few records that are not parked deliveries (handover or epoch
// markers a member may write on assignment and on leaving, two per
// generation) and a re-append still being committed. Once the lanes are
// settled nothing else moves — every head waits 10 minutes — so one commit
// interval covers no settled item.
const LAG_TOLERANCE = PARTITIONS * 8

const isDown = (accountId: string): boolean => Number(accountId.slice('acc-'.length)) % 7 < 5
const behaviour: Behaviour = ({ accountId, attempt }) => (isDown(accountId) || attempt === 1 ? { status: 503 } : { status: 204 })

/** Per down account, the most attempts any one of its webhooks has had (its head's). */
function downHeadAttempts (receiver: TestReceiver): Map<string, number> {
  const attempts = new Map<string, { accountId: string, n: number }>()
  for (const r of receiver.received) {
    if (!isDown(r.accountId)) continue
    const seen = attempts.get(r.webhookId) ?? { accountId: r.accountId, n: 0 }
    seen.n++
    attempts.set(r.webhookId, seen)
  }
  const byAccount = new Map<string, number>()
  for (const { accountId, n } of attempts.values()) byAccount.set(accountId, Math.max(byAccount.get(accountId) ?? 0, n))
  return byAccount
}

/** Waits until the lanes are idle and the group's retry-topic lag stops moving; returns that lag. */
async function settledLag (s: Scenario, dispatcher: DispatcherProcess, waiting: number, what: string): Promise<TopicLag> {
  let previous: number | undefined
  return await waitUntil(`${what}: ${waiting} parked and held, nothing in flight, retry-topic lag steady`, async () => {
    const backlog = await readMetric(dispatcher.metricsUrl, 'webhooks_parked_backlog')
    const inFlight = await readMetric(dispatcher.metricsUrl, 'webhooks_in_flight')
    if (backlog !== waiting || inFlight !== 0) {
      previous = undefined
      return undefined
    }
    // Two reads a second apart (five commit intervals) that agree.
    const lag = await groupLag(s.group, s.retry)
    const steady = previous === lag.total
    previous = lag.total
    return steady ? lag : undefined
  }, { timeoutMs: 240_000, intervalMs: 1000 })
}

// Issue 11, DESIGN C7 and §4a: a clean shutdown re-delivers nothing, however
// deep the retry backlog and however long its heads' backoff; and the retry
// lane's committed position follows what is really waiting, not the oldest
// waiting head.
describe('SIGTERM with a deep retry backlog in long backoff', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    const retry = scenario?.retry
    await scenario?.close()
    if (retry !== undefined) await deleteTopicsIfPresent([retry]).catch(() => undefined)
    scenario = undefined
  })

  it(`restarts with 0 duplicates and retry-topic lag equal to the ${DOWN_EVENTS} items waiting (C7)`, async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour }], { partitions: PARTITIONS, env })
    const s = scenario
    const receiver = s.receivers.get('sub') as TestReceiver
    const first = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: EVENTS, accounts: ACCOUNTS })
    const waiting = produced.filter((e) => isDown(e.accountId)).length
    const flaky = produced.length - waiting
    expect(waiting).toBeGreaterThanOrEqual(Math.min(DOWN_EVENTS, 50_000))

    // Progress every 30 s, and the dispatcher's warnings if this phase times
    // out: on a loaded machine it is the slow one, and the reason matters.
    const phaseStart = Date.now()
    let lastReport = phaseStart
    await waitUntil(`all ${flaky} flaky events delivered through the retry topic`, async () => {
      if (Date.now() - lastReport >= 30_000) {
        lastReport = Date.now()
        const parked = await readMetric(first.metricsUrl, 'webhooks_parked_backlog').catch(() => NaN)
        console.log(`flaky phase +${Math.round((lastReport - phaseStart) / 1000)} s: ${receiver.acceptedIds()} of ${flaky} accepted, ${receiver.received.length} requests, parked backlog ${parked}`)
      }
      return receiver.acceptedIds() >= flaky
    }, { timeoutMs: 300_000, intervalMs: 1000 }).catch((err: unknown) => {
      const warnings = first.output().split('\n').filter((line) => /"level":(40|50|60)\b/.test(line))
      console.log(`dispatcher warnings and errors (${warnings.length}, the last 40):\n${warnings.slice(-40).join('\n')}`)
      throw err
    })
    await waitUntil(`the heads of all ${DOWN_ACCOUNTS} down accounts failed twice`, () => {
      const heads = downHeadAttempts(receiver)
      return heads.size === DOWN_ACCOUNTS && [...heads.values()].every((n) => n >= 2)
    }, { timeoutMs: 120_000, intervalMs: 1000 })
    const lagBefore = await settledLag(s, first, waiting, 'before SIGTERM')
    const parkedOnSource = await readMetric(first.metricsUrl, 'webhooks_settled_total{outcome="parked",lane="source"}')
    const deliveredFromRetry = await readMetric(first.metricsUrl, 'webhooks_settled_total{outcome="delivered",lane="retry"}')
    expect(deliveredFromRetry).toBeGreaterThanOrEqual(flaky)
    const before = s.check(produced)
    expect(before.duplicates).toBe(0)
    expect(before.missing).toHaveLength(waiting)

    first.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const acceptedBefore = receiver.accepted().length
    const acceptedIdsBefore = new Set(receiver.accepted().map((r) => r.webhookId))

    // Same group; the down endpoint keeps failing.
    const second = await s.start()
    const lagAfter = await settledLag(s, second, waiting, 'after restart')
    const report = s.check(produced)
    const redelivered = receiver.accepted().slice(acceptedBefore)
    const redeliveredIds = new Set(redelivered.map((r) => r.webhookId))
    const summary = [
      `shutdown with backlog: ${waiting} items waiting (${DOWN_ACCOUNTS} heads in a 10 min backoff), ${flaky} flaky events delivered from the retry topic;`,
      `source parks ${parkedOnSource} over ${PARTITIONS} retry partitions (commit metadata marks up to ${MAX_TRACKED_OFFSETS} per partition), retry-lane deliveries ${deliveredFromRetry};`,
      `retry-topic lag before SIGTERM ${lagBefore.total} [${lagBefore.partitions.map((p) => p.lag).join(',')}],`,
      `after restart ${lagAfter.total} [${lagAfter.partitions.map((p) => p.lag).join(',')}] vs ${waiting} waiting (tolerance ±${LAG_TOLERANCE});`,
      `duplicates after restart ${report.duplicates} (${redelivered.length} webhooks accepted again, ${[...redeliveredIds].filter((id) => acceptedIdsBefore.has(id)).length} of them already accepted before SIGTERM)`
    ].join(' ')
    console.log(summary)
    expect.soft(report.duplicates, `duplicates after a clean restart: ${summary}`).toBe(0)
    expect.soft(Math.abs(lagAfter.total - waiting), `retry-topic lag after restart minus items waiting: ${summary}`).toBeLessThanOrEqual(LAG_TOLERANCE)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    // Nothing of a down account was delivered (its endpoint never answered 2xx).
    expect(report.missing).toHaveLength(waiting)
  }, scaled(900_000))
})
