import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createScenario, seededRandom, type Scenario } from '../support/scenario.js'
import { repoRoot } from '../support/log-segments.js'
import { waitUntil } from '../support/wait.js'
import type { Behaviour } from '../support/webhook-receiver.js'

const fastRetries = { RETRY_SCHEDULE_MS: '100,200,400', DELIVERY_TIMEOUT_MS: '1000', CONNECT_TIMEOUT_MS: '500' }

function flaky (seed: number, { failRate = 0.1, hangRate = 0.002, maxDelayMs = 20 } = {}): Behaviour {
  const random = seededRandom(seed)
  return () => {
    const r = random()
    if (r < hangRate) return { status: 0, hang: true }
    if (r < hangRate + failRate) return { status: 500 }
    return { status: 204, delayMs: Math.floor(random() * maxDelayMs) }
  }
}

describe('dispatcher under faults', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('loses nothing and keeps per-account order with random latency, 10% 500s and hung requests', async () => {
    const EVENTS = Number(process.env.E2E_CHAOS_EVENTS ?? 50_000)
    scenario = await createScenario([
      { id: 'sub-all', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: flaky(1) },
      { id: 'sub-posted', tenantId: 'tenant-000', eventTypes: ['transaction.posted', 'transaction.reversed'], behaviour: flaky(2) },
      { id: 'sub-t1', tenantId: 'tenant-001', eventTypes: ['transaction.*'], behaviour: flaky(3) }
    ], { partitions: 6, env: fastRetries })
    await scenario.start()
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: EVENTS, accounts: 1000, tenants: 3 })
    const s = scenario
    try {
      await waitUntil('every matching event delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 240_000, intervalMs: 500 })
    } finally {
      // The dispatcher's log, for a failure to be read after the fact.
      writeFileSync(join(repoRoot(), '.run', 'dispatcher-chaos.log'), s.dispatchers.map((d) => d.output()).join('\n'))
    }
    const report = s.check(produced)
    expect(report.expected).toBeGreaterThan(EVENTS / 2)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    console.log(`chaos: ${report.expected} expected deliveries, ${report.duplicates} duplicates`)
  }, 300_000)
})
