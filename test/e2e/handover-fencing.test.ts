import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readMetric, type DispatcherProcess } from '../support/dispatcher-process.js'
import { setProduceQuota } from '../support/foreign-producer.js'
import { repoRoot } from '../support/log-segments.js'
import type { ProducedEvent } from '../support/oracle.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { scaled, waitUntil } from '../support/wait.js'

// DESIGN §4a. Half the accounts fail every event's first attempt, so every
// partition parks all the time; the first instance's produce requests are
// throttled by a broker-side quota, so its parks are acknowledged late. A
// second instance joins and leaves five times: each time partitions move
// while the losing owner still has parks on their way. The new owner must
// not attempt a key before every park the previous owner made for it is
// read, whatever the acknowledgement delay.
describe('partition handover', () => {
  let scenario: Scenario | undefined
  const throttled = `handover-old-owner-${randomUUID()}`
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
    await setProduceQuota(throttled, undefined)
  })

  it('keeps per-account order over five handovers while the old owner\'s parks are acknowledged late', async () => {
    const failsFirst = (accountId: string): boolean => Number(accountId.slice(-3)) % 2 === 0
    scenario = await createScenario([{
      id: 'sub',
      tenantId: 'tenant-000',
      eventTypes: ['*'],
      behaviour: ({ accountId, attempt }) => (attempt === 1 && failsFirst(accountId) ? { status: 500 } : { status: 204, delayMs: 2 })
    }], {
      partitions: 6,
      // Only a release may open a moved partition here: the wait is longer
      // than the test needs. Half the accounts fail every first attempt: the
      // circuit breaker, which is not under test, stays out of the way.
      env: { RETRY_SCHEDULE_MS: '200,400', HANDOVER_WAIT_MS: '600000', CIRCUIT_FAILURE_THRESHOLD: '10000' }
    })
    const s = scenario
    const receiver = s.receivers.get('sub')
    if (receiver === undefined) throw new Error('no receiver')
    // The old owner's parks (some MB over the test) are throttled to 100 KB/s: its acknowledgements lag behind its sends.
    await setProduceQuota(throttled, 100_000)
    const old = await s.start({ KAFKA_CLIENT_ID: throttled })
    const produced: ProducedEvent[] = []
    const produce = async (): Promise<void> => { produced.push(...await s.feed.publishTransactions(s.source, { count: 1000, accounts: 200 })) }
    const delivered = (): number => receiver.acceptedIds()

    await produce()
    await waitUntil('the first instance delivers', () => delivered() >= 300, { timeoutMs: 60_000, intervalMs: 50 })
    const instances: DispatcherProcess[] = [old]
    for (let round = 1; round <= 5; round++) {
      await produce()
      const joiner = await s.start({ KAFKA_CLIENT_ID: `handover-joiner-${round}` })
      instances.push(joiner)
      await produce()
      const before = delivered()
      await waitUntil(`deliveries after join ${round}`, () => delivered() >= before + 300, { timeoutMs: 60_000, intervalMs: 50 })
      joiner.kill('SIGTERM')
      expect(await joiner.exited, joiner.output().slice(-3000)).toBe(0)
    }
    await produce()
    await setProduceQuota(throttled, undefined)
    try {
      await waitUntil('every event delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 120_000 })
    } finally {
      // The instances' logs and the survivor's metrics, for a failure to be read after the fact.
      const metrics = await (await fetch(old.metricsUrl)).text().catch(() => '')
      const missing = s.check(produced).missing.map((e) => `${e.accountId}#${e.accountSequence}`).join(' ')
      writeFileSync(join(repoRoot(), '.run', 'handover-fencing.log'), instances.map((d, i) => `==== instance ${i}\n${d.output()}`).join('\n') + `\n==== missing\n${missing}\n==== metrics\n${metrics}`)
    }

    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(report.unexpected).toEqual([])
    expect(receiver.badSignatures).toBe(0)
    // Every handover completed through a release, none by the wait running out.
    const logs = instances.map((d) => d.output()).join('\n')
    expect(logs).not.toContain('no release from the previous owner')
    expect(logs).toContain('partition released')
    expect(await readMetric(old.metricsUrl, 'webhooks_late_parks_total')).toBe(0)
    console.log(`handover x5 with late acknowledgements: ${report.expected} expected deliveries, ${report.duplicates} duplicates`)
  }, scaled(420_000))
})
