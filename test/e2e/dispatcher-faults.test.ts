import { afterEach, describe, expect, it } from 'vitest'
import { readMetric } from '../support/dispatcher-process.js'
import { readTopic } from '../support/dead-letters.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { testStack } from '../support/stack.js'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js'
import { waitUntil } from '../support/wait.js'

const fastRetries = { RETRY_SCHEDULE_MS: '100,200,400', DELIVERY_TIMEOUT_MS: '2000', CONNECT_TIMEOUT_MS: '1000' }

describe('dispatcher faults', () => {
  let scenario: Scenario | undefined
  let proxy: TcpProxy | undefined
  afterEach(async () => {
    await scenario?.close()
    await proxy?.close()
    scenario = undefined
    proxy = undefined
  })

  it('keeps other endpoints flowing while one is down, then delivers its backlog in order (C3)', async () => {
    let down = true
    scenario = await createScenario([
      { id: 'sub-down', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: () => (down ? { status: 503 } : { status: 204 }) },
      { id: 'sub-up', tenantId: 'tenant-000', eventTypes: ['*'] }
    ], { env: fastRetries })
    const s = scenario
    await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: 3000, accounts: 200 })
    const upReceiver = s.receivers.get('sub-up')
    const downReceiver = s.receivers.get('sub-down')
    await waitUntil('the healthy endpoint has every event', () => (upReceiver?.acceptedIds() ?? 0) >= 3000, { timeoutMs: 60_000 })
    expect(downReceiver?.accepted().length).toBe(0)
    expect(downReceiver?.received.length).toBeGreaterThan(0)
    down = false
    await waitUntil('the recovered endpoint has its backlog', () => s.check(produced).missing.length === 0, { timeoutMs: 90_000, intervalMs: 250 })
    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(report.expected).toBe(6000)
  }, 180_000)

  it('parks failing accounts behind their failed event while other accounts on the same endpoint flow (C2, C3)', async () => {
    const failingAccounts = new Set(['acc-000003', 'acc-000017', 'acc-000042'])
    let failing = true
    scenario = await createScenario([
      { id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'], behaviour: ({ accountId }) => (failing && failingAccounts.has(accountId) ? { status: 500 } : { status: 204 }) }
    ], { env: fastRetries })
    const s = scenario
    const dispatcher = await s.start()
    const produced = await s.feed.publishTransactions(s.source, { count: 2000, accounts: 50 })
    const receiver = s.receivers.get('sub')
    const healthyCount = produced.filter((e) => !failingAccounts.has(e.accountId)).length
    await waitUntil('healthy accounts delivered', () => (receiver?.acceptedIds() ?? 0) >= healthyCount, { timeoutMs: 60_000 })
    await waitUntil('failing heads retried several times', () => {
      const attemptsById = new Map<string, number>()
      for (const r of receiver?.received ?? []) if (failingAccounts.has(r.accountId)) attemptsById.set(r.webhookId, (attemptsById.get(r.webhookId) ?? 0) + 1)
      return [...attemptsById.values()].filter((n) => n >= 3).length >= failingAccounts.size
    }, { timeoutMs: 30_000 })
    // Only the head of each failing account was ever attempted: its later
    // events wait, parked and unattempted.
    const attemptedIds = new Set((receiver?.received ?? []).filter((r) => failingAccounts.has(r.accountId)).map((r) => r.webhookId))
    expect(attemptedIds.size).toBe(failingAccounts.size)
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_settled_total{outcome="parked",lane="source"}')).toBeGreaterThan(0)
    failing = false
    await waitUntil('all delivered', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    const report = s.check(produced)
    expect(report.orderViolations).toEqual([])
    expect(report.expected).toBe(2000)
  }, 180_000)

  it('dead-letters each kind of poison record with its reason and keeps consuming (C5)', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 1, env: { SCHEMA_LOOKUP_RETRIES: '2' } })
    const s = scenario
    const [valid] = await s.feed.publishTransactions(s.source, { count: 1, accounts: 1 })
    const receiver = s.receivers.get('sub')
    const good = (await readTopic(s.source))[0]?.value as Buffer
    const truncated = good.subarray(0, 9)
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), good.subarray(5)])
    const poison = [
      { key: 'acc-000000', value: Buffer.from([0, 1]) },
      { key: 'acc-000000', value: Buffer.concat([Buffer.from([9]), good.subarray(1)]) },
      { key: 'acc-000000', value: unknownId },
      { key: 'acc-000000', value: truncated }
    ]
    await s.feed.publishRaw(s.source, poison)
    const after = await s.feed.publishTransactions(s.source, { count: 20, accounts: 1 })
    await s.start()
    await waitUntil('records after the poison delivered', () => s.check([valid!, ...after]).missing.length === 0, { timeoutMs: 60_000 })
    const letters = await waitUntil('four dead letters', async () => {
      const all = await readTopic(s.deadLetter).catch(() => [])
      return all.length >= 4 ? all : undefined
    }, { timeoutMs: 30_000 })
    expect(letters.map((l) => l.headers['whd-dead-letter-reason'])).toEqual(['record-too-short', 'bad-magic-byte', 'unknown-schema-id', 'corrupt-avro'])
    expect(letters.map((l) => l.value)).toEqual(poison.map((p) => p.value))
    expect(letters.every((l) => l.headers['whd-source-topic'] === s.source)).toBe(true)
    expect(receiver?.accepted().length).toBe(21)
  }, 120_000)

  it('pauses while the schema registry is unreachable and resumes without dead letters (C5)', async () => {
    const { registryUrl } = await testStack()
    const url = new URL(registryUrl)
    proxy = await startTcpProxy(url.hostname, Number(url.port), { up: false })
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 2 })
    const s = scenario
    const produced = await s.feed.publishTransactions(s.source, { count: 500, accounts: 20 })
    const dispatcher = await s.start({ SCHEMA_REGISTRY_URL: `http://127.0.0.1:${proxy.port}${url.pathname}` })
    await waitUntil('the dispatcher has met the outage several times', async () => (await readMetric(dispatcher.metricsUrl, 'webhooks_registry_errors_total')) >= 4, { timeoutMs: 30_000 })
    expect(s.receivers.get('sub')?.received.length).toBe(0)
    proxy.setUp(true)
    await waitUntil('all delivered after the registry is back', () => s.check(produced).missing.length === 0, { timeoutMs: 60_000 })
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total')).toBe(0)
    expect(s.check(produced).orderViolations).toEqual([])
  }, 120_000)
})
