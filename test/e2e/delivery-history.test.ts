// The delivery history end to end (DESIGN §10): every attempt a receiver
// saw is in the index with its outcome and status, in order; the query API
// answers per event, per endpoint and in statistics, scoped by tenant; the
// payload is read back from Kafka; a deleted SQLite index is rebuilt from
// the attempts topic.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { adminClient, createAdminScenario, TENANT_0, TENANT_1, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import type { ProducedEvent } from '../support/oracle.js'
import { scaled, waitUntil } from '../support/wait.js'
import { allAttempts, type AttemptView as Attempt } from '../support/history-client.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

function byEvent (records: Attempt[]): Map<string, Attempt[]> {
  const map = new Map<string, Attempt[]>()
  for (const r of records) map.set(r.eventId, [...(map.get(r.eventId) ?? []), r])
  return map
}

const httpAttempts = (records: Attempt[]): Attempt[] => records.filter((r) => r.kind === 'attempt')

describe('delivery history', () => {
  const secret = generateSecret()
  const sqlitePath = join(tmpdir(), 'whd-test-history', `${randomUUID()}.sqlite`)
  let scenario: AdminScenario
  let dispatcher: DispatcherProcess
  let flaky: TestReceiver
  let steady: TestReceiver
  let failing: TestReceiver
  let produced: ProducedEvent[]
  let env: Record<string, string>

  beforeAll(async () => {
    scenario = await createAdminScenario()
    // Tenant 0: one endpoint that fails each event's first attempt, one that takes everything.
    flaky = await startTestReceiver(secret, ({ attempt }) => ({ status: attempt === 1 ? 500 : 204 }))
    steady = await startTestReceiver(secret)
    // Tenant 1: one that fails until the test fixes it, so its deliveries run out of time.
    failing = await startTestReceiver(secret, () => ({ status: 503 }))
    env = {
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([
        { id: 'sub-flaky', tenantId: TENANT_0, url: flaky.url, eventTypes: ['*'], secrets: [secret] },
        { id: 'sub-steady', tenantId: TENANT_0, url: steady.url, eventTypes: ['transaction.posted'], secrets: [secret] },
        { id: 'sub-failing', tenantId: TENANT_1, url: failing.url, eventTypes: ['*'], secrets: [secret] }
      ]),
      HISTORY_SQLITE_PATH: sqlitePath,
      // The test reads whole histories, many pages a poll.
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000',
      RETRY_SCHEDULE_MS: '300',
      RETRY_MAX_AGE_SECONDS: '3',
      // The breaker is not what this test looks at.
      CIRCUIT_FAILURE_THRESHOLD: '10000'
    }
    dispatcher = await scenario.start(env)
    produced = await scenario.feed.publishTransactions(scenario.source, { count: 240, accounts: 24, tenants: 2 })
  })

  afterAll(async () => {
    await Promise.all([flaky, steady, failing].map(async (r) => await r?.close()))
    await scenario?.close()
    rmSync(sqlitePath, { force: true })
  })

  it('indexes every attempt the receivers saw, with its outcome and status, in order; a dead letter and its redrive too', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const operator = adminClient(dispatcher.adminUrl, scenario.tokens.operator)
    const ofTenant = (tenant: string): ProducedEvent[] => produced.filter((e) => e.tenantId === tenant)
    const posted = ofTenant(TENANT_0).filter((e) => e.eventType === 'transaction.posted')
    await waitUntil('tenant 0 delivered', () => flaky.acceptedIds() === ofTenant(TENANT_0).length && steady.acceptedIds() === posted.length, { timeoutMs: 60_000 })
    // Tenant 1's deliveries fail until they are out of time: dead letters.
    await waitUntil('tenant 1 dead-lettered', async () => (await allAttempts(operator, 'sub-failing', { outcome: 'dead_lettered' })).length === ofTenant(TENANT_1).length, { timeoutMs: 90_000 })
    failing.setBehaviour(() => ({ status: 204 }))
    const redriven = await operator.request('POST', '/v1/dead-letters/redrive', { subscriptionId: 'sub-failing' })
    expect(redriven.status).toBe(200)
    await waitUntil('redriven letters delivered', () => failing.acceptedIds() === ofTenant(TENANT_1).length, { timeoutMs: 60_000 })

    const indexed = async (id: string): Promise<Attempt[]> => await allAttempts(operator, id)
    // Every request a receiver saw is an attempt in the index, no more.
    for (const [id, receiver] of [['sub-flaky', flaky], ['sub-steady', steady], ['sub-failing', failing]] as const) {
      await waitUntil(`${id}'s attempts indexed`, async () => httpAttempts(await indexed(id)).length === receiver.received.length, { timeoutMs: 30_000 })
    }
    // Per event on the flaky endpoint: a 500, then delivered from the retry
    // lane; parked once — after its own failure, or untried behind an
    // earlier event of its account that had failed.
    const flakyByEvent = byEvent((await indexed('sub-flaky')).reverse())
    expect(flakyByEvent.size).toBe(ofTenant(TENANT_0).length)
    for (const records of flakyByEvent.values()) {
      expect(httpAttempts(records).map((r) => [r.outcome, r.httpStatus, r.attemptNumber])).toEqual([['failed', 500, 1], ['delivered', 204, 2]])
      expect(records.filter((r) => r.outcome === 'parked').length).toBe(1)
      expect(records.at(-1)).toMatchObject({ kind: 'attempt', outcome: 'delivered', lane: 'retry' })
      // The next attempt the failure names is the one the lane kept (within the clock's rounding).
      const failure = httpAttempts(records)[0] as Attempt
      if (failure.lane === 'source') expect(records.map((r) => r.outcome)).toEqual(['failed', 'parked', 'delivered'])
      expect(Date.parse((records.at(-1) as Attempt).startedAt)).toBeGreaterThanOrEqual(Date.parse(failure.nextAttemptAt ?? '') - 5)
    }
    // The failing endpoint: failures, a dead letter, then the redrive's delivery.
    for (const records of byEvent((await indexed('sub-failing')).reverse()).values()) {
      const deadAt = records.findIndex((r) => r.outcome === 'dead_lettered')
      expect(records[deadAt]?.errorCode).toBe('retries-exhausted')
      expect(records.slice(0, deadAt).filter((r) => r.kind === 'attempt').every((r) => r.httpStatus === 503)).toBe(true)
      expect(records.at(-1)).toMatchObject({ kind: 'attempt', outcome: 'delivered', lane: 'redrive', httpStatus: 204 })
    }

    // Per event: both tenant-0 endpoints, with their status; the payload as the receiver got it.
    const event = posted[0] as ProducedEvent
    const view = await tenant0.request<{ eventType: string, accountId: string, deliveries: Array<{ endpointId: string, status: string, attempts: Attempt[] }> }>('GET', `/v1/events/${event.eventId}`)
    expect(view.status).toBe(200)
    expect(view.body.eventType).toBe('transaction.posted')
    expect(view.body.accountId).toBe(event.accountId)
    expect(view.body.deliveries.map((d) => [d.endpointId, d.status]).sort()).toEqual([['sub-flaky', 'delivered'], ['sub-steady', 'delivered']])
    const payload = await tenant0.request<{ body: unknown }>('GET', `/v1/events/${event.eventId}/payload`)
    expect(payload.status).toBe(200)
    expect(payload.body.body).toEqual(steady.accepted().find((r) => r.webhookId === event.eventId)?.body)

    // Statistics: every attempt of the window, half of the flaky endpoint's failed.
    const stats = await tenant0.request<{ attempts: number, delivered: number, successRatio: number, latencyMs: { p50: number | null, p99: number | null } }>('GET', '/v1/endpoints/sub-flaky/stats?window=1h')
    expect(stats.status).toBe(200)
    expect([stats.body.attempts, stats.body.delivered]).toEqual([flaky.received.length, flaky.acceptedIds()])
    expect(stats.body.successRatio).toBeCloseTo(0.5, 5)
    expect(stats.body.latencyMs.p50).not.toBeNull()
    // Filters: the failed attempts are the 500s, newest first.
    const failed = await allAttempts(tenant0, 'sub-flaky', { outcome: 'failed', statusClass: '5xx' })
    expect(failed.length).toBe(ofTenant(TENANT_0).length)
    expect(failed.map((r) => r.startedAt)).toEqual(failed.map((r) => r.startedAt).sort().reverse())
  }, scaled(300_000))

  it('scopes every history route by tenant, and refuses malformed input naming the parameter', async () => {
    const tenant1 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant1)
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const foreign = produced.find((e) => e.tenantId === TENANT_0) as ProducedEvent
    for (const path of [`/v1/events/${foreign.eventId}`, `/v1/events/${foreign.eventId}/payload`, '/v1/endpoints/sub-flaky/attempts', '/v1/endpoints/sub-flaky/stats', `/v1/events/${randomUUID()}`]) {
      const res = await tenant1.request('GET', path)
      expect([path, res.status, res.body?.error?.code]).toEqual([path, 404, 'WHD_ERR_NOT_FOUND'])
    }
    const bad: Array<[string, string]> = [
      ['statusClass=6xx', 'statusClass'], ['outcome=lost', 'outcome[0]'], ['from=yesterday', 'from'], ['limit=0', 'limit'],
      ['cursor=abc', 'cursor'], ['from=2026-12-02&to=2026-12-01', 'to'], ['colour=red', 'colour']
    ]
    for (const [query, field] of bad) {
      const res = await tenant0.request('GET', `/v1/endpoints/sub-flaky/attempts?${query}`)
      expect([query, res.status, res.body?.error?.code, res.body?.error?.field]).toEqual([query, 400, 'WHD_ERR_VALIDATION', field])
    }
    const window = await tenant0.request('GET', '/v1/endpoints/sub-flaky/stats?window=7d')
    expect([window.status, window.body?.error?.field]).toEqual([400, 'window'])
  })

  it.runIf(process.platform === 'linux')('runs the indexer and the SQLite reader threads below the delivery thread\'s priority, the writer beside it', async () => {
    // The reader thread runs from a history query until it has been idle a minute.
    await allAttempts(adminClient(dispatcher.adminUrl, scenario.tokens.operator), 'sub-flaky')
    const pid = dispatcher.child.pid as number
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value; the
    // command name before it is parenthesised and may hold spaces.
    const niceOf = (tid: string): number => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16])
    const nices = readdirSync(`/proc/${pid}/task`).map((tid) => ({ tid, nice: niceOf(tid) }))
    expect(niceOf(String(pid))).toBe(0)
    // The indexer, and the reader that answers the history routes from SQLite.
    expect(nices.filter((t) => t.nice === 10)).toHaveLength(2)
    expect(nices.filter((t) => t.nice !== 0 && t.nice !== 10)).toEqual([])
  })

  it('rebuilds a deleted SQLite index from the attempts topic', async () => {
    const operator = adminClient(dispatcher.adminUrl, scenario.tokens.operator)
    const before = (await allAttempts(operator, 'sub-flaky')).map((r) => r.attemptId).sort()
    dispatcher.kill('SIGTERM')
    await dispatcher.exited
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${sqlitePath}${suffix}`, { force: true })
    dispatcher = await scenario.start(env)
    const again = adminClient(dispatcher.adminUrl, scenario.tokens.operator)
    await waitUntil('index rebuilt', async () => (await allAttempts(again, 'sub-flaky')).length >= before.length, { timeoutMs: 60_000 })
    expect((await allAttempts(again, 'sub-flaky')).map((r) => r.attemptId).sort()).toEqual(before)
  }, scaled(120_000))
})
