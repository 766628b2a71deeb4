// Replay jobs end to end (DESIGN §11) on real Kafka, registry and the
// delivery history: an endpoint down for a window gets exactly what it
// missed (onlyFailed) or everything of the window and filter, in order per
// account, nothing of another tenant; a job survives kill -9 and resumes
// with 0 events skipped; every refusal answers its code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { eventTypeMatches } from '../../services/dispatcher/src/subscriptions/match.js'
import { adminClient, createAdminScenario, TENANT_0, TENANT_1, type AdminClient, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { allAttempts } from '../support/history-client.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { scaled, waitUntil } from '../support/wait.js'
import { startTestReceiver, type ReceivedWebhook, type TestReceiver } from '../support/webhook-receiver.js'

interface ReplayView {
  id: string
  state: string
  createdAt: string
  progress: { records: number, scanned: number, matched: number, delivered: number, failed: number, eta?: string }
}

const iso = (ms: number): string => new Date(ms).toISOString()

async function startReplay (client: AdminClient, endpointId: string, body: Record<string, unknown>): Promise<ReplayView> {
  const res = await client.request<ReplayView>('POST', `/v1/endpoints/${endpointId}/replay`, body)
  if (res.status !== 201) throw new Error(`replay answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body
}

async function finished (client: AdminClient, id: string, timeoutMs = 60_000): Promise<ReplayView> {
  return await waitUntil(`replay ${id} finished`, async () => {
    const res = await client.request<ReplayView>('GET', `/v1/replays/${id}`)
    return res.status === 200 && res.body.state !== 'running' ? res.body : undefined
  }, { timeoutMs, intervalMs: 300 })
}

describe('replay', () => {
  const secret = generateSecret()
  let scenario: AdminScenario
  let dispatcher: DispatcherProcess
  let flaky: TestReceiver
  let slow: TestReceiver
  let slow2: TestReceiver
  let other: TestReceiver
  let env: Record<string, string>
  /** Everything the first test published. */
  const published: ProducedEvent[] = []
  /** The first test's down window and tenant 0's events in it. */
  const window = { since: 0, until: 0, events: [] as ProducedEvent[] }

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 3 })
    flaky = await startTestReceiver(secret)
    slow = await startTestReceiver(secret)
    slow2 = await startTestReceiver(secret)
    other = await startTestReceiver(secret)
    env = {
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([
        { id: 'sub-flaky', tenantId: TENANT_0, url: flaky.url, eventTypes: ['*'], secrets: [secret] },
        // Two deliveries a second: a replay to them stays active long enough to be overlapped, limited, cancelled.
        { id: 'sub-slow', tenantId: TENANT_0, url: slow.url, eventTypes: ['*'], secrets: [secret], rateLimitPerSecond: 2 },
        { id: 'sub-slow2', tenantId: TENANT_0, url: slow2.url, eventTypes: ['*'], secrets: [secret], rateLimitPerSecond: 2 },
        { id: 'sub-other', tenantId: TENANT_1, url: other.url, eventTypes: ['*'], secrets: [secret] }
      ]),
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000',
      RETRY_SCHEDULE_MS: '300',
      RETRY_MAX_AGE_SECONDS: '2',
      CIRCUIT_FAILURE_THRESHOLD: '10000',
      REPLAY_MAX_RANGE_HOURS: '1',
      REPLAY_MAX_JOBS_PER_TENANT: '2'
    }
    dispatcher = await scenario.start(env)
  }, scaled(60_000))

  afterAll(async () => {
    await Promise.all([flaky, slow, slow2, other].map(async (r) => await r?.close()))
    await scenario?.close()
  })

  const judge = (expected: readonly ProducedEvent[], accepted: readonly ReceivedWebhook[], tenantId: string, types = ['*']): ReturnType<typeof checkDeliveries> =>
    checkDeliveries(expected, [{ id: 'sub', tenantId, matches: (t) => types.some((f) => eventTypeMatches(f, t)), accepted }])

  it('delivers what an endpoint missed while down (onlyFailed), or all of a window and filter, in order per account, nothing of another tenant', async () => {
    const operator = adminClient(dispatcher.adminUrl, scenario.tokens.operator)
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const start = Date.now()
    const before = await scenario.feed.publishTransactions(scenario.source, { count: 40, accounts: 6, tenants: 2 })
    const ofTenant0 = (events: ProducedEvent[]): ProducedEvent[] => events.filter((e) => e.tenantId === TENANT_0)
    await waitUntil('the first batch delivered', () => flaky.acceptedIds() === ofTenant0(before).length, { timeoutMs: 60_000 })

    // Down: every delivery of the window runs out of time and is dead-lettered.
    flaky.setBehaviour(() => ({ status: 503 }))
    const downFrom = Date.now()
    const missed = await scenario.feed.publishTransactions(scenario.source, { count: 60, accounts: 6, tenants: 2 })
    const downUntil = Date.now() + 1
    await waitUntil('the window dead-lettered', async () => (await allAttempts(operator, 'sub-flaky', { outcome: 'dead_lettered' })).length === ofTenant0(missed).length, { timeoutMs: 90_000 })
    flaky.setBehaviour(() => ({ status: 204 }))
    const after = await scenario.feed.publishTransactions(scenario.source, { count: 40, accounts: 6, tenants: 2 })
    published.push(...before, ...missed, ...after)
    Object.assign(window, { since: downFrom, until: downUntil, events: ofTenant0(missed) })
    await waitUntil('the last batch delivered', () => flaky.acceptedIds() === ofTenant0(before).length + ofTenant0(after).length, { timeoutMs: 60_000 })
    // Every attempt indexed, so onlyFailed knows what was delivered.
    await waitUntil('history indexed', async () => (await allAttempts(operator, 'sub-flaky', { outcome: 'delivered' })).length === ofTenant0(before).length + ofTenant0(after).length, { timeoutMs: 30_000 })

    // onlyFailed over the whole run: exactly the window's events of tenant 0.
    let mark = flaky.received.length
    const failedOnly = await startReplay(tenant0, 'sub-flaky', { since: iso(start - 1000), until: iso(Date.now()), onlyFailed: true })
    expect(failedOnly.state).toBe('running')
    const done = await finished(tenant0, failedOnly.id)
    expect(done.state).toBe('completed')
    expect(done.progress).toMatchObject({ records: before.length + missed.length + after.length, scanned: before.length + missed.length + after.length, matched: ofTenant0(missed).length, delivered: ofTenant0(missed).length, failed: 0 })
    let report = judge(ofTenant0(missed), flaky.received.slice(mark).filter((r) => r.status === 204), TENANT_0)
    expect([report.missing, report.unexpected, report.orderViolations, report.duplicates]).toEqual([[], [], [], 0])

    // Everything of the window taking one type, whether delivered before or not.
    mark = flaky.received.length
    const posted = ofTenant0(missed).filter((e) => e.eventType === 'transaction.posted')
    expect(posted.length).toBeGreaterThan(0)
    const typed = await startReplay(operator, 'sub-flaky', { since: downFrom, until: downUntil, eventTypes: ['transaction.posted'] })
    expect((await finished(operator, typed.id)).progress).toMatchObject({ scanned: missed.length, matched: posted.length, delivered: posted.length })
    report = judge(posted, flaky.received.slice(mark).filter((r) => r.status === 204), TENANT_0, ['transaction.posted'])
    expect([report.missing, report.unexpected, report.orderViolations, report.duplicates]).toEqual([[], [], [], 0])
    // Nothing went to tenant 1's endpoint but its live traffic (each event once).
    expect(other.received.length).toBe(new Set(other.received.map((r) => r.webhookId)).size)

    // In the history with lane replay; listed on the endpoint, newest first.
    await waitUntil('replay attempts indexed', async () => (await allAttempts(tenant0, 'sub-flaky')).filter((r) => r.lane === 'replay').length === ofTenant0(missed).length + posted.length, { timeoutMs: 30_000 })
    const list = await tenant0.request<{ items: ReplayView[] }>('GET', '/v1/endpoints/sub-flaky/replays')
    expect(list.body.items.map((r) => r.id)).toEqual([typed.id, failedOnly.id])
  }, scaled(300_000))

  it('refuses each bad request with its code, scopes replays by tenant, and cancels', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const tenant1 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant1)
    const refusal = async (client: AdminClient, endpointId: string, body: Record<string, unknown>): Promise<[number, string | undefined, string | undefined]> => {
      const res = await client.request('POST', `/v1/endpoints/${endpointId}/replay`, body)
      return [res.status, res.body?.error?.code, res.body?.error?.field]
    }
    const now = Date.now()
    expect(await refusal(tenant0, 'sub-slow', { since: iso(now - 60_000), until: iso(now + 3_600_000) })).toEqual([400, 'WHD_ERR_REPLAY_RANGE', 'until'])
    expect(await refusal(tenant0, 'sub-slow', { since: iso(now - 60_000), until: iso(now - 120_000) })).toEqual([400, 'WHD_ERR_REPLAY_RANGE', 'until'])
    expect(await refusal(tenant0, 'sub-slow', { since: iso(now - 2 * 3_600_000), until: iso(now - 1000) })).toEqual([400, 'WHD_ERR_REPLAY_RANGE', 'until'])
    expect(await refusal(tenant0, 'sub-slow', { since: 'yesterday', until: iso(now) })).toEqual([400, 'WHD_ERR_VALIDATION', 'since'])
    expect(await refusal(tenant0, 'sub-slow', { until: iso(now) })).toEqual([400, 'WHD_ERR_VALIDATION', 'since'])
    // Another tenant's endpoint is one that does not exist.
    expect(await refusal(tenant1, 'sub-slow', { since: iso(now - 60_000), until: iso(now) })).toEqual([404, 'WHD_ERR_NOT_FOUND', undefined])

    // Paused or disabled: no replay.
    expect((await tenant0.request('POST', '/v1/endpoints/sub-slow/pause')).status).toBe(200)
    expect(await refusal(tenant0, 'sub-slow', { since: iso(now - 60_000), until: iso(now) })).toEqual([409, 'WHD_ERR_ENDPOINT_INACTIVE', undefined])
    expect((await tenant0.request('POST', '/v1/endpoints/sub-slow/resume')).status).toBe(200)
    expect((await tenant0.request('POST', '/v1/endpoints/sub-slow/disable')).status).toBe(200)
    expect(await refusal(tenant0, 'sub-slow', { since: iso(now - 60_000), until: iso(now) })).toEqual([409, 'WHD_ERR_ENDPOINT_INACTIVE', undefined])
    expect((await tenant0.request('POST', '/v1/endpoints/sub-slow/enable')).status).toBe(200)

    // An active replay (the slow endpoint takes 2 a second), then one overlapping it.
    const since = Date.now() - 50 * 60_000
    // Its live traffic (two a second) is over first: what it receives next is the replay's.
    await waitUntil('live deliveries to the slow endpoint', () => slow.acceptedIds() === published.filter((e) => e.tenantId === TENANT_0).length, { timeoutMs: 90_000 })
    const mark = slow.received.length
    const first = await startReplay(tenant0, 'sub-slow', { since: iso(since), until: iso(Date.now()) })
    expect(await refusal(tenant0, 'sub-slow', { since: iso(since + 60_000), until: iso(Date.now()) })).toEqual([409, 'WHD_ERR_REPLAY_CONFLICT', undefined])
    // A second of the tenant's is allowed (REPLAY_MAX_JOBS_PER_TENANT=2), a third is not.
    const second = await startReplay(tenant0, 'sub-slow2', { since: iso(since), until: iso(Date.now()) })
    expect(await refusal(tenant0, 'sub-flaky', { since: iso(since), until: iso(since + 1000) })).toEqual([409, 'WHD_ERR_REPLAY_LIMIT', undefined])
    // Another tenant's count is its own.
    const tenant1s = await startReplay(tenant1, 'sub-other', { since: iso(Date.now() - 1000), until: iso(Date.now()) })
    // Tenant 1 sees neither tenant 0's replays nor their ids.
    expect((await tenant1.request('GET', `/v1/replays/${first.id}`)).status).toBe(404)
    expect((await tenant1.request('DELETE', `/v1/replays/${first.id}`)).status).toBe(404)
    expect((await tenant1.request('GET', '/v1/endpoints/sub-slow/replays')).status).toBe(404)
    await finished(tenant1, tenant1s.id)

    // Progress shows while it runs; cancel stops it.
    const running = await waitUntil('progress', async () => {
      const res = await tenant0.request<ReplayView>('GET', `/v1/replays/${first.id}`)
      return res.body.progress.delivered > 0 ? res.body : undefined
    }, { timeoutMs: 30_000 })
    expect(running.state).toBe('running')
    expect(running.progress.records).toBeGreaterThan(running.progress.delivered)
    const cancel = await tenant0.request<ReplayView>('DELETE', `/v1/replays/${first.id}`)
    expect([cancel.status, cancel.body.state]).toEqual([200, 'cancelled'])
    expect((await finished(tenant0, first.id)).state).toBe('cancelled')
    // The runner's last record: the counts it reached, which are all the receiver got.
    const stopped = await waitUntil('the runner stopped', async () => {
      const view = (await tenant0.request<ReplayView>('GET', `/v1/replays/${first.id}`)).body
      return view.progress.delivered > 0 && view.progress.delivered === slow.received.length - mark ? view : undefined
    }, { timeoutMs: 30_000 })
    expect(stopped.state).toBe('cancelled')
    const tenant0Events = published.filter((e) => e.tenantId === TENANT_0).length
    // Cancelled well before the end (2 a second), and nothing after.
    expect(slow.received.length - mark).toBeLessThan(tenant0Events)
    expect((await tenant0.request<ReplayView>('DELETE', `/v1/replays/${second.id}`)).body.state).toBe('cancelled')
    // Cancelling a finished job answers it as it is.
    expect((await tenant0.request<ReplayView>('DELETE', `/v1/replays/${first.id}`)).body.state).toBe('cancelled')
  }, scaled(180_000))

  it('hands a failed replay delivery to the retry lane: retried with backoff, order per account kept', async () => {
    // Time enough for the retry lane on a loaded machine (the first tests needed retries to run out fast).
    dispatcher.kill('SIGTERM')
    await dispatcher.exited
    dispatcher = await scenario.start({ ...env, RETRY_MAX_AGE_SECONDS: '600' })
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    // The first request for each account from here on fails; every other one succeeds.
    const failedOnce = new Set<string>()
    flaky.setBehaviour(({ accountId }) => {
      if (failedOnce.has(accountId)) return { status: 204 }
      failedOnce.add(accountId)
      return { status: 500 }
    })
    const mark = flaky.received.length
    const job = await startReplay(tenant0, 'sub-flaky', { since: window.since, until: window.until })
    const done = await finished(tenant0, job.id)
    // The first of each account failed; the rest of the account went behind it, unattempted.
    const accounts = new Set(window.events.map((e) => e.accountId))
    expect(done.progress).toMatchObject({ matched: window.events.length, delivered: 0, failed: window.events.length })
    await waitUntil('the retry lane delivered them', () => new Set(flaky.received.slice(mark).filter((r) => r.status === 204).map((r) => r.webhookId)).size === window.events.length, { timeoutMs: 60_000 })
    const report = judge(window.events, flaky.received.slice(mark).filter((r) => r.status === 204), TENANT_0)
    expect([report.missing, report.unexpected, report.orderViolations]).toEqual([[], [], []])
    expect(flaky.received.slice(mark).filter((r) => r.status === 500).length).toBe(accounts.size)
    // In the history: one failed replay attempt per account; the rest from the retry lane.
    await waitUntil('attempts indexed', async () => {
      const failed = (await allAttempts(tenant0, 'sub-flaky', { outcome: 'failed' })).filter((r) => r.lane === 'replay')
      const retried = (await allAttempts(tenant0, 'sub-flaky', { outcome: 'delivered' })).filter((r) => r.lane === 'retry' && Date.parse(r.startedAt) >= Date.parse(done.createdAt))
      return failed.length === accounts.size && retried.length >= window.events.length
    }, { timeoutMs: 30_000 })
    flaky.setBehaviour(() => ({ status: 204 }))
  }, scaled(180_000))
})
