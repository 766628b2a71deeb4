import { afterEach, describe, expect, it } from 'vitest'
import { decodeSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

describe('dispatcher logs', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('a full run at debug level logs JSON with no secret, no authorization header and no payload value', async () => {
    let failing = true
    scenario = await createScenario([
      { id: 'sub-ok', tenantId: 'tenant-000', eventTypes: ['*'] },
      { id: 'sub-flaky', tenantId: 'tenant-000', eventTypes: ['transaction.posted'], behaviour: () => (failing ? { status: 503, headers: { 'retry-after': '1' } } : { status: 204 }) }
    ], { partitions: 2 })
    const s = scenario
    const secret = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(s.subscriptionsFile, 'utf8'))).subscriptions[0].secrets[0] as string
    const dispatcher = await s.start({ LOG_LEVEL: 'debug', RETRY_SCHEDULE_MS: '100,200' })
    const produced = await s.feed.publishTransactions(s.source, { count: 200, accounts: 10 })
    await s.feed.publishRaw(s.source, [{ key: 'acc-000001', value: Buffer.from([0, 1]) }])
    await waitUntil('healthy subscription has everything', () => (s.receivers.get('sub-ok')?.acceptedIds() ?? 0) >= 200, { timeoutMs: 60_000 })
    failing = false
    await waitUntil('all delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    dispatcher.kill('SIGTERM')
    await dispatcher.exited

    const output = dispatcher.output()
    const lines = output.split('\n').filter((l) => l.trim() !== '')
    expect(lines.length).toBeGreaterThan(20)
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    // The per-delivery debug lines are there...
    expect(output).toContain('"msg":"delivered"')
    expect(output).toContain('"msg":"attempt failed"')
    expect(output).toContain('"msg":"dead-lettered"')
    // ...and nothing secret or private is.
    expect(output).not.toContain(secret)
    expect(output).not.toContain(decodeSecret(secret).toString('base64'))
    expect(output.toLowerCase()).not.toContain('authorization')
    expect(output).not.toContain('webhook-signature')
    expect(output).not.toMatch(/txn-\d+/)
    expect(output).not.toMatch(/"amount"/)
    expect(output).not.toContain('.25"')
  }, 120_000)
})
