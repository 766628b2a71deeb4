import { afterEach, describe, expect, it } from 'vitest'
import { readMetric } from '../support/dispatcher-process.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

// MEMORY_SOFT_LIMIT_MIB (memory/reducer.ts): past it, every thread — the
// main one and each history thread — runs a memory-reducing collection. A
// limit of 1 MiB is passed at once; when to collect again (RSS grown by a
// tenth, or a minute passed) is unit-tested in memory/pressure.test.ts.
describe('MEMORY_SOFT_LIMIT_MIB', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('past the soft limit, every thread collects garbage, and deliveries go on', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 2 })
    const dispatcher = await scenario.start({ MEMORY_SOFT_LIMIT_MIB: '1', LOG_LEVEL: 'info' })
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: 200, accounts: 20 })
    // Counted once the main thread and both history threads (writer, indexer) have collected.
    await waitUntil('a collection ran', async () => await readMetric(dispatcher.metricsUrl, 'webhooks_memory_collections_total') >= 1, { timeoutMs: 60_000 })
    const receiver = scenario.receivers.get('sub')
    await waitUntil('every event delivered', () => scenario?.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    expect(scenario.check(produced)).toMatchObject({ duplicates: 0, orderViolations: [] })
    expect(receiver?.acceptedIds()).toBe(produced.length)
    const logged = dispatcher.output().split('\n').filter((line) => line.includes('garbage collected')).map((line) => JSON.parse(line) as { rssBefore: number, rssAfter: number, softLimit: number })
    expect(logged.length).toBeGreaterThanOrEqual(1)
    for (const entry of logged) {
      expect(entry.softLimit).toBe(2 ** 20)
      expect(entry.rssBefore).toBeGreaterThan(entry.softLimit)
      expect(entry.rssAfter).toBeGreaterThan(0)
    }
  })
})
