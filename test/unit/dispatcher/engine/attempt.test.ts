import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { AttemptResult, DeliveryRequest } from '../../../../services/dispatcher/src/delivery/types.js'
import { createAttempt } from '../../../../services/dispatcher/src/engine/attempt.js'
import { CircuitBreakers } from '../../../../services/dispatcher/src/engine/circuit-breaker.js'
import type { AttemptEntry } from '../../../../services/dispatcher/src/engine/attempt-log.js'
import type { DeliveryTask } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { EndpointStats } from '../../../../services/dispatcher/src/engine/endpoint-stats.js'
import { createRetryPolicy } from '../../../../services/dispatcher/src/engine/retry-policy.js'
import { createMetrics } from '../../../../services/dispatcher/src/metrics.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const HOUR = 3_600_000
const T0 = Date.parse('2026-12-01T00:00:00Z')

/** The attempt policy with a fake clock, a scripted deliverer and real breakers; what it did is recorded. */
function harness (subscription: Partial<Subscription> | undefined, answers: AttemptResult[] = [], options: { maxAgeMs?: number, autoDisableAfterMs?: number, threshold?: number } = {}) {
  let now = T0
  const sub: Subscription | undefined = subscription === undefined
    ? undefined
    : { id: 'sub-1', tenantId: 't1', url: 'https://example.test/hook', eventTypes: ['*'], secrets: ['whsec_x'], enabled: true, ...subscription }
  const requests: DeliveryRequest[] = []
  const disabled: Array<[string, string]> = []
  const history: AttemptEntry[] = []
  let ids = 0
  const metrics = createMetrics()
  const breakers = new CircuitBreakers({ failureThreshold: options.threshold ?? 3, initialOpenMs: 30_000 })
  const attempt = createAttempt({
    subscriptions: { get: (id) => (id === sub?.id ? sub : undefined), forTenant: () => [], all: () => [], disable: () => {} },
    deliver: async (req) => {
      requests.push(req)
      return answers.shift() ?? { kind: 'response', status: 204, headers: {}, durationMs: 5 }
    },
    endpointCap: () => 7,
    breakers,
    endpointStats: new EndpointStats(),
    retryPolicy: createRetryPolicy({ scheduleMs: [5000, 30_000], maxAgeMs: options.maxAgeMs ?? 72 * HOUR, retryAfterMaxMs: HOUR }),
    metrics,
    deliveryTimeoutMs: 15_000,
    autoDisableAfterMs: options.autoDisableAfterMs ?? 120 * HOUR,
    disable: (id, reason) => { disabled.push([id, reason]) },
    now: () => now,
    log: pino({ level: 'silent' }),
    history: { record: (entry) => { history.push(entry) } },
    newId: () => `id-${++ids}`
  })
  const task = (extra: Partial<DeliveryTask> = {}): DeliveryTask => ({
    webhookId: 'evt-1', subscriptionId: 'sub-1', tenantId: 't1', accountId: 'acc-1', eventType: 'transaction.posted',
    occurredAt: T0 - 1000, body: '{}', source: { topic: 'src', partition: 0, offset: 7n }, record: { key: null, value: null, headers: {}, timestamp: T0 }, attempts: 0, ...extra
  })
  return { attempt, task, requests, disabled, history, metrics, breakers, advance: (ms: number) => { now += ms }, at: () => now }
}

const status = (code: number, headers: Record<string, string> = {}): AttemptResult => ({ kind: 'response', status: code, headers, durationMs: 3 })

describe('attempt policy', () => {
  it('drops a delivery whose subscription was deleted, and counts it', async () => {
    const h = harness(undefined)
    expect(await h.attempt(h.task())).toEqual({ kind: 'dropped', reason: 'subscription-deleted' })
    expect((await h.metrics.dropped.get()).values.find((v) => v.labels.reason === 'subscription-deleted')?.value).toBe(1)
    expect(h.requests).toEqual([])
  })

  it('dead-letters for a disabled endpoint and holds for a paused one, without an attempt', async () => {
    const disabled = harness({ enabled: false })
    expect(await disabled.attempt(disabled.task())).toEqual({ kind: 'dead-letter', reason: 'endpoint-disabled' })
    const paused = harness({ paused: true })
    expect(await paused.attempt(paused.task())).toEqual({ kind: 'held', reason: 'paused' })
    expect([...disabled.requests, ...paused.requests]).toEqual([])
  })

  it('dead-letters for a quarantined endpoint as endpoint-quarantined, without an attempt', async () => {
    const h = harness({ enabled: false, secrets: [], disabledReason: 'quarantined: cannot verify or decrypt: key "k1"', quarantined: 'cannot verify or decrypt: key "k1"' })
    expect(await h.attempt(h.task())).toEqual({ kind: 'dead-letter', reason: 'endpoint-quarantined' })
    expect(h.requests).toEqual([])
  })

  it('delivers: one signed request with the subscription\'s secrets and the timeout, through the endpoint\'s pool sized by its cap, attempts counted', async () => {
    const h = harness({})
    const task = h.task()
    expect(await h.attempt(task)).toEqual({ kind: 'delivered' })
    expect(h.requests).toEqual([{ url: 'https://example.test/hook', webhookId: 'evt-1', body: '{}', secrets: ['whsec_x'], tls: undefined, timeoutMs: 15_000, pool: { id: 'sub-1', connections: 7 } }])
    expect(task.attempts).toBe(1)
    expect(task.firstFailureAt).toBeUndefined()
  })

  it('a failure starts the retry clock and records the status; a later one keeps the first failure time', async () => {
    const h = harness({}, [status(500), { kind: 'error', code: 'timeout', message: 'slow', durationMs: 15_000 }])
    const task = h.task()
    expect(await h.attempt(task)).toEqual({ kind: 'failed', endpointGone: false })
    expect(task).toMatchObject({ attempts: 1, firstFailureAt: T0, lastStatus: 500, lastError: 'HTTP 500' })
    h.advance(5000)
    expect(await h.attempt(task)).toEqual({ kind: 'failed', endpointGone: false })
    expect(task).toMatchObject({ attempts: 2, firstFailureAt: T0, lastError: 'timeout' })
    expect(task.lastStatus).toBeUndefined()
  })

  it('410 Gone means the endpoint is gone', async () => {
    const h = harness({}, [status(410)])
    expect(await h.attempt(h.task())).toEqual({ kind: 'failed', endpointGone: true })
  })

  it('clamps a receiver\'s Retry-After to at least 1 s and at most RETRY_AFTER_MAX_MS', async () => {
    const h = harness({}, [status(429, { 'retry-after': '0' }), status(503, { 'retry-after': String(5 * 3600) }), status(503, { 'retry-after': '120' })])
    expect(await h.attempt(h.task())).toEqual({ kind: 'failed', endpointGone: false, retryAfterMs: 1000 })
    expect(await h.attempt(h.task())).toEqual({ kind: 'failed', endpointGone: false, retryAfterMs: HOUR })
    expect(await h.attempt(h.task())).toEqual({ kind: 'failed', endpointGone: false, retryAfterMs: 120_000 })
  })

  it('an open circuit holds the delivery until the probe time, starting its retry clock; past the max age it dead-letters instead', async () => {
    const h = harness({}, [status(500), status(500), status(500)], { maxAgeMs: 60_000 })
    for (let i = 0; i < 3; i++) await h.attempt(h.task({ webhookId: `evt-${i}` }))
    const held = h.task({ webhookId: 'evt-held' })
    expect(await h.attempt(held)).toEqual({ kind: 'held', reason: 'circuit-open', until: T0 + 30_000 })
    expect(held).toMatchObject({ firstFailureAt: T0, lastError: 'circuit-open', attempts: 0 })
    expect(h.requests).toHaveLength(3)
    // The held clock runs: once past first failure + max age, it is dead-lettered though the circuit is still open.
    h.advance(20_000)
    const older = h.task({ webhookId: 'evt-old', firstFailureAt: T0 - 50_000 })
    expect(await h.attempt(older)).toEqual({ kind: 'dead-letter', reason: 'retries-exhausted' })
    expect(h.requests).toHaveLength(3)
  })

  it('a held delivery\'s until is the earlier of the probe time and its max age', async () => {
    const h = harness({}, [status(500), status(500), status(500)], { maxAgeMs: 10_000 })
    for (let i = 0; i < 3; i++) await h.attempt(h.task({ webhookId: `evt-${i}` }))
    expect(await h.attempt(h.task({ webhookId: 'evt-held' }))).toEqual({ kind: 'held', reason: 'circuit-open', until: T0 + 10_000 })
  })

  it('disables an endpoint that has failed continuously for AUTO_DISABLE_AFTER_HOURS, not before', async () => {
    const h = harness({}, Array.from({ length: 10 }, () => status(503)), { autoDisableAfterMs: 120 * HOUR, threshold: 1 })
    await h.attempt(h.task())
    expect(h.disabled).toEqual([])
    // Every later attempt is the half-open probe once the open period has passed.
    h.advance(119 * HOUR)
    expect(await h.attempt(h.task())).toMatchObject({ kind: 'failed' })
    expect(h.disabled).toEqual([])
    h.advance(HOUR)
    expect(await h.attempt(h.task())).toMatchObject({ kind: 'failed' })
    expect(h.disabled).toEqual([['sub-1', 'continuous-failure']])
  })

  it('a success resets the failure streak, so the disable clock starts over', async () => {
    const h = harness({}, [status(503), status(200), status(503), status(503)], { autoDisableAfterMs: 2 * HOUR, threshold: 1 })
    await h.attempt(h.task())
    h.advance(HOUR)
    await h.attempt(h.task())
    h.advance(HOUR)
    await h.attempt(h.task())
    h.advance(HOUR)
    await h.attempt(h.task())
    expect(h.disabled).toEqual([])
  })
})

describe('attempt history', () => {
  it('records each HTTP attempt with its status, duration, attempt number and lane; a failure names the next attempt time', async () => {
    const h = harness({}, [{ kind: 'response', status: 503, headers: {}, durationMs: 12.4, bodyPrefix: 'busy' }, { kind: 'error', code: 'timeout', message: 'x', durationMs: 15_000 }, { kind: 'response', status: 200, headers: {}, durationMs: 3 }])
    const task = h.task()
    await h.attempt(task)
    h.advance(5000)
    await h.attempt(task)
    h.advance(30_000)
    await h.attempt(Object.assign(task, { retryOffset: 4n }))
    expect(h.history.map((e) => [e.kind, e.outcome, e.attemptNumber, e.httpStatus, e.errorCode, e.lane, e.durationMs])).toEqual([
      ['attempt', 'failed', 1, 503, undefined, 'source', 12],
      ['attempt', 'failed', 2, undefined, 'timeout', 'source', 15_000],
      ['attempt', 'delivered', 3, 200, undefined, 'retry', 3]
    ])
    expect(h.history[0]).toMatchObject({ attemptId: 'id-1', eventId: 'evt-1', tenantId: 't1', subscriptionId: 'sub-1', accountId: 'acc-1', sourceTopic: 'src', sourcePartition: 0, sourceOffset: 7n, startedAt: T0, responseBodyPrefix: 'busy' })
    // The next attempt is the slot the policy gives, within its jitter (±20 % of the gap).
    expect(h.history[0]?.nextAttemptAt).toBeGreaterThanOrEqual(T0 + 4000)
    expect(h.history[0]?.nextAttemptAt).toBeLessThanOrEqual(T0 + 6000)
    expect(h.history[2]?.nextAttemptAt).toBeUndefined()
  })

  it('the next attempt time recorded is the one the retry policy gives the lane for the same delivery', async () => {
    const h = harness({}, [{ kind: 'response', status: 500, headers: {}, durationMs: 1 }])
    const task = h.task()
    await h.attempt(task)
    const policy = createRetryPolicy({ scheduleMs: [5000, 30_000], maxAgeMs: 72 * HOUR, retryAfterMaxMs: HOUR })
    expect(policy.next(task, h.at())).toEqual({ kind: 'retry', at: h.history[0]?.nextAttemptAt })
  })

  it('records a delivery held by an open circuit or a pause, and a drop, as outcomes without an attempt', async () => {
    const paused = harness({ paused: true })
    await paused.attempt(paused.task())
    expect(paused.history.map((e) => [e.kind, e.outcome, e.errorCode])).toEqual([['outcome', 'held', 'paused']])
    const deleted = harness(undefined)
    await deleted.attempt(deleted.task())
    expect(deleted.history.map((e) => [e.kind, e.outcome, e.errorCode])).toEqual([['outcome', 'dropped', 'subscription-deleted']])
    const h = harness({}, [{ kind: 'response', status: 500, headers: {}, durationMs: 1 }], { threshold: 1 })
    await h.attempt(h.task())
    await h.attempt(h.task({ webhookId: 'evt-2' }))
    expect(h.history[1]).toMatchObject({ kind: 'outcome', outcome: 'held', errorCode: 'circuit-open', eventId: 'evt-2', nextAttemptAt: T0 + 30_000 })
  })
})

describe('retry policy', () => {
  it('without an injected random, the jitter is a function of the delivery: the same each time, different between deliveries', () => {
    const policy = createRetryPolicy({ scheduleMs: [100_000], maxAgeMs: 72 * HOUR, retryAfterMaxMs: HOUR })
    const a = { webhookId: 'evt-a', subscriptionId: 's', firstFailureAt: T0, attempts: 1 }
    expect(policy.next(a, T0)).toEqual(policy.next({ ...a }, T0 + 10))
    const times = new Set(Array.from({ length: 50 }, (_, i) => (policy.next({ ...a, webhookId: `evt-${i}` }, T0) as { at: number }).at))
    expect(times.size).toBeGreaterThan(40)
    for (const at of times) expect(Math.abs(at - (T0 + 100_000))).toBeLessThanOrEqual(20_000)
  })

  const policy = createRetryPolicy({ scheduleMs: [5000, 30_000], maxAgeMs: HOUR, retryAfterMaxMs: 600_000, random: () => 0.5 })

  it('schedules from the first failure and gives up at the max age', () => {
    expect(policy.next({ firstFailureAt: T0, attempts: 1 }, T0)).toEqual({ kind: 'retry', at: T0 + 5000 })
    expect(policy.next({ firstFailureAt: T0, attempts: 2 }, T0 + 5000)).toEqual({ kind: 'retry', at: T0 + 35_000 })
    expect(policy.next({ firstFailureAt: T0, attempts: 200 }, T0 + HOUR)).toEqual({ kind: 'exhausted' })
    expect(policy.expired({ firstFailureAt: T0 }, T0 + HOUR - 1)).toBe(false)
    expect(policy.expired({ firstFailureAt: T0 }, T0 + HOUR)).toBe(true)
    expect(policy.expired({}, T0 + 100 * HOUR)).toBe(false)
    expect(policy.deadline(T0)).toBe(T0 + HOUR)
  })

  it('clamps Retry-After into [1 s, max], and a max below 1 s wins', () => {
    expect([0, 999, 1000, 5000, 600_001].map(policy.clampRetryAfter)).toEqual([1000, 1000, 1000, 5000, 600_000])
    const tight = createRetryPolicy({ scheduleMs: [5000], maxAgeMs: HOUR, retryAfterMaxMs: 500 })
    expect(tight.clampRetryAfter(10_000)).toBe(500)
    expect(tight.clampRetryAfter(0)).toBe(500)
  })
})
