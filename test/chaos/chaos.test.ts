import { describe, expect, it } from 'vitest'
import { scaled } from '../support/wait.js'
import { FAULT_PLAN, runChaos } from './run-chaos.js'
import { renderResults } from './results.js'

// The chaos run of `make chaos` in a small configuration, so `make test`
// exercises the suite itself: a few thousand events, paced so the faults
// land while traffic flows, a short endpoint outage.
describe('chaos suite (small configuration)', () => {
  it('loses nothing, keeps order per (subscription, account) and verifies every signature through kill -9 ×3, a broker stop/start, an instance joining and leaving, an outage and 10 % 500s', async () => {
    const report = await runChaos({
      events: 6000,
      accounts: 2000,
      partitions: 6,
      outageMs: 5000,
      produceRatePerSecond: 150,
      settleTimeoutMs: 180_000,
      log: (line) => { console.log(`[chaos] ${line}`) }
    })
    console.log(renderResults(report, 'vitest run test/chaos/chaos.test.ts'))
    expect(report.faults.map((f) => f.name).filter((name) => FAULT_PLAN.some((p) => p.name === name))).toEqual(FAULT_PLAN.map((p) => p.name))
    expect(report.lost).toBe(0)
    expect(report.orderViolations).toBe(0)
    expect(report.badSignatures).toBe(0)
    expect(report.unexpected).toBe(0)
    // The faults were felt: the outage endpoint answered 503, the flaky one 500.
    expect(report.endpoints.find((e) => e.id === 'sub-outage')?.statuses['503']).toBeGreaterThan(0)
    expect(report.endpoints.find((e) => e.id === 'sub-flaky')?.statuses['500']).toBeGreaterThan(0)
    expect(report.finalExitCodes.every((code) => code === 0)).toBe(true)
  }, scaled(600_000))
})
