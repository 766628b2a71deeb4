import { afterEach, describe, expect, it } from 'vitest'
import { readMetric } from '../support/dispatcher-process.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

describe('per-endpoint protection', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('an open circuit parks a failing endpoint\'s deliveries at once instead of attempting them, then recovers in order', async () => {
    let down = true
    scenario = await createScenario([
      { id: 'sub-down', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => (down ? { status: 503 } : { status: 204 }) },
      { id: 'sub-up', tenantId: 'tenant-000', eventTypes: ['*'] }
    ], { partitions: 2, env: { RETRY_SCHEDULE_MS: '100', CIRCUIT_FAILURE_THRESHOLD: '5', CIRCUIT_OPEN_MS: '1000' } })
    const s = scenario
    const dispatcher = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: 1000, accounts: 100 })
    const downReceiver = s.receivers.get('sub-down')
    await waitUntil('the healthy endpoint has every event', () => (s.receivers.get('sub-up')?.acceptedIds() ?? 0) >= 1000, { timeoutMs: 60_000 })
    await waitUntil('the circuit is open', async () => (await readMetric(dispatcher.metricsUrl, 'webhooks_circuit_breakers{state="open"}')) === 1, { timeoutMs: 30_000 })
    await waitUntil('every delivery to the failing endpoint parked', async () => (await readMetric(dispatcher.metricsUrl, 'webhooks_settled_total{outcome="parked",lane="source"}')) >= 1000, { timeoutMs: 60_000 })
    // Without the circuit, each of the 100 keys' first delivery would be
    // attempted in the source lane, then retried every 100 ms: hundreds of
    // requests. With it, a handful fail, the circuit opens, and the rest
    // park unattempted; only probes go out.
    expect(downReceiver?.received.length).toBeLessThan(100)
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total')).toBe(0)
    down = false
    await waitUntil('the recovered endpoint has its backlog', () => s.check(produced).missing.length === 0, { timeoutMs: 90_000, intervalMs: 250 })
    expect(s.check(produced).orderViolations).toEqual([])
    await waitUntil('the circuit closes', async () => (await readMetric(dispatcher.metricsUrl, 'webhooks_circuit_breakers{state="open"}')) === 0, { timeoutMs: 10_000 })
  }, 180_000)

  it('rate-limits one endpoint without slowing another', async () => {
    scenario = await createScenario([
      { id: 'sub-limited', tenantId: 'tenant-000', eventTypes: ['*'], rateLimitPerSecond: 20 },
      { id: 'sub-free', tenantId: 'tenant-000', eventTypes: ['*'] }
    ], { partitions: 2 })
    const s = scenario
    await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: 80, accounts: 20 })
    await waitUntil('all delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    const times = (id: string): number[] => (s.receivers.get(id)?.accepted() ?? []).map((r) => r.receivedAt).sort((a, b) => a - b)
    const limited = times('sub-limited')
    const free = times('sub-free')
    // 20 at once (one second's burst), then 20 a second: 80 take ≥ 3 s.
    expect((limited.at(-1) as number) - (limited[0] as number)).toBeGreaterThanOrEqual(2700)
    // Any 41 consecutive deliveries span about a second (timed at the
    // receiver, so allow for jitter); unlimited, they would take milliseconds.
    for (let i = 0; i + 41 < limited.length; i++) expect((limited[i + 40] as number) - (limited[i] as number)).toBeGreaterThanOrEqual(750)
    expect((free.at(-1) as number) - (free[0] as number)).toBeLessThan(2000)
    expect(s.check(produced).orderViolations).toEqual([])
  }, 120_000)
})
