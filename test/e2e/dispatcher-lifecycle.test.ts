import { afterEach, describe, expect, it } from 'vitest'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

// Receivers answer at once; the default 15 s attempt deadline keeps a busy
// test machine from turning slow answers into retries (and duplicates).
describe('dispatcher lifecycle', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('loses nothing and keeps order across repeated kill -9 and restart (C1, C2, C4)', async () => {
    scenario = await createScenario([
      { id: 'sub-a', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => ({ status: 204, delayMs: 2 }) },
      { id: 'sub-b', tenantId: 'tenant-000', eventTypes: ['transaction.posted'] }
    ], { partitions: 6 })
    const s = scenario
    const produced = await s.feed.publishTransactions(s.source, { count: 12_000, accounts: 400 })
    const receiver = s.receivers.get('sub-a')
    const crashes = 3
    for (let i = 1; i <= crashes; i++) {
      const dispatcher = await s.start()
      const target = Math.floor((12_000 * i) / (crashes + 1))
      await waitUntil(`~${target} deliveries before crash ${i}`, () => (receiver?.accepted().length ?? 0) >= target, { timeoutMs: 60_000, intervalMs: 20 })
      dispatcher.kill('SIGKILL')
      await dispatcher.exited
    }
    await s.start()
    await waitUntil('all delivered after the last restart', () => s.check(produced).missing.length === 0, { timeoutMs: 90_000 })
    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    console.log(`kill -9 x${crashes}: ${report.expected} expected deliveries, ${report.duplicates} duplicates`)
  }, 240_000)

  it('moves partitions to the other instance when one stops mid-stream, losing nothing', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => ({ status: 204, delayMs: 5 }) }], { partitions: 6 })
    const s = scenario
    const first = await s.start()
    const second = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: 8000, accounts: 300 })
    const receiver = s.receivers.get('sub')
    await waitUntil('a third delivered', () => (receiver?.accepted().length ?? 0) >= 2500, { timeoutMs: 60_000, intervalMs: 20 })
    first.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    await waitUntil('all delivered by the remaining instance', () => s.check(produced).missing.length === 0, { timeoutMs: 90_000 })
    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(second.child.exitCode).toBeNull()
    console.log(`handover: ${report.expected} expected deliveries, ${report.duplicates} duplicates`)
  }, 180_000)

  it('SIGTERM mid-stream drains, commits and leaves: no loss and no duplicates (C7)', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => ({ status: 204, delayMs: 5 }) }], { partitions: 4 })
    const s = scenario
    const produced = await s.feed.publishTransactions(s.source, { count: 6000, accounts: 200 })
    const receiver = s.receivers.get('sub')
    // A small window, so that a backlog is still in Kafka when SIGTERM comes.
    const first = await s.start({ PARTITION_WINDOW_RECORDS: '100' })
    await waitUntil('some delivered', () => (receiver?.accepted().length ?? 0) >= 1500, { timeoutMs: 60_000, intervalMs: 20 })
    first.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const deliveredBeforeRestart = receiver?.accepted().length ?? 0
    expect(deliveredBeforeRestart).toBeLessThan(6000)
    await s.start()
    await waitUntil('all delivered after restart', () => s.check(produced).missing.length === 0, { timeoutMs: 90_000 })
    const report = s.check(produced)
    expect(report.duplicates).toBe(0)
    expect(report.orderViolations).toEqual([])
  }, 180_000)
})
