// The live subscription store end to end (DESIGN §6, C1, C2): endpoints
// changed through one dispatcher's admin API take effect on every instance
// that shares the subscriptions topic, without restarts and without loss.
import { afterEach, describe, expect, it } from 'vitest'
import {
  adminClient,
  createAdminScenario,
  groupCaughtUp,
  sumMetric,
  TENANT_0,
  type AdminScenario,
  type EndpointView
} from '../support/admin-client.js'
import type { DispatcherProcess } from '../support/dispatcher-process.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { waitUntil } from '../support/wait.js'
import { eventTypeMatches } from '../../services/dispatcher/src/subscriptions/match.js'

const metricsOf = (dispatchers: readonly DispatcherProcess[]): string[] => dispatchers.map((d) => d.metricsUrl)

describe('live subscriptions through the admin API', () => {
  let scenario: AdminScenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('two instances share one store: create, update, pause, resume and delete through either take effect on both', async () => {
    const s = scenario = await createAdminScenario({ partitions: 4 })
    const a = await s.start()
    const b = await s.start()
    const both = [a, b]
    const metrics = metricsOf(both)
    // Both members own source partitions, so both deliver.
    await waitUntil('partitions spread over both instances', async () => {
      const counts = await Promise.all(both.map((d) => sumMetric([d.metricsUrl], 'webhooks_assigned_partitions')))
      return counts.every((n) => n > 0) && counts.reduce((x, y) => x + y) === 4
    }, { timeoutMs: 30_000 })
    const apiA = adminClient(a.adminUrl, s.tokens.tenant0)
    const apiB = adminClient(b.adminUrl, s.tokens.tenant0)
    const receiver = await s.receiver()

    // Create through A; B sees it.
    const { endpoint, secret } = await apiA.createEndpoint({ url: receiver.url, eventTypes: ['transaction.*'], description: 'live store' })
    receiver.setSecrets([secret])
    const seenByB = await waitUntil('B sees the new endpoint', () => apiB.getEndpoint(endpoint.id), { timeoutMs: 15_000 })
    expect(seenByB).toEqual(endpoint)
    expect((await apiB.listEndpoints()).map((e) => e.id)).toEqual([endpoint.id])

    // Every event matches: all delivered, by both instances.
    const phases: Array<{ produced: ProducedEvent[], filter: string[] }> = []
    const deliveredBy = async (): Promise<number[]> => await Promise.all(both.map((d) => sumMetric([d.metricsUrl], 'webhooks_settled_total', { outcome: 'delivered' })))
    const first = await s.feed.publishTransactions(s.source, { count: 200, accounts: 20 })
    phases.push({ produced: first, filter: ['transaction.*'] })
    await waitUntil('the first events delivered', () => checkPhase(first, ['transaction.*']).missing.length === 0, { timeoutMs: 30_000 })
    expect((await deliveredBy()).every((n) => n > 0)).toBe(true)

    // Narrow the filter through B; A applies it.
    const narrowed = ['transaction.authorized', 'transaction.posted']
    const patched = await apiB.request<EndpointView>('PATCH', `/v1/endpoints/${endpoint.id}`, { eventTypes: narrowed })
    expect(patched.status).toBe(200)
    expect(patched.body.eventTypes).toEqual(narrowed)
    await waitUntil('A sees the new filter', async () => (await apiA.getEndpoint(endpoint.id))?.eventTypes.join() === narrowed.join(), { timeoutMs: 15_000 })
    const droppedBefore = await sumMetric(metrics, 'webhooks_dropped_total')
    // 160 events over 20 accounts: 8 rounds, the type changing each round,
    // so half are authorized or posted.
    const second = await s.feed.publishTransactions(s.source, { count: 160, accounts: 20 })
    phases.push({ produced: second, filter: narrowed })
    await waitUntil('the second events consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    const secondReport = checkPhase(second, narrowed)
    expect(secondReport).toMatchObject({ expected: 80, missing: [], unexpected: [] })
    // The other half matched no subscription of the tenant: dropped, and counted.
    expect(await sumMetric(metrics, 'webhooks_dropped_total') - droppedBefore).toBe(80)

    // Pause through A; neither instance delivers, nothing is lost.
    const paused = await apiA.request<EndpointView>('POST', `/v1/endpoints/${endpoint.id}/pause`)
    expect(paused.body).toMatchObject({ state: 'paused', paused: true })
    await waitUntil('B sees the pause', async () => (await apiB.getEndpoint(endpoint.id))?.paused === true, { timeoutMs: 15_000 })
    const receivedBeforePause = receiver.requests.length
    const parkedBefore = await sumMetric(metrics, 'webhooks_settled_total', { outcome: 'parked' })
    const third = await s.feed.publishTransactions(s.source, { count: 160, accounts: 20 })
    phases.push({ produced: third, filter: narrowed })
    const held = third.filter((e) => narrowed.includes(e.eventType)).length
    expect(held).toBe(80)
    await waitUntil('the paused endpoint\'s events parked', async () => (await sumMetric(metrics, 'webhooks_settled_total', { outcome: 'parked' })) - parkedBefore >= held, { timeoutMs: 30_000 })
    await waitUntil('the third events consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    expect(await sumMetric(metrics, 'webhooks_settled_total', { outcome: 'parked' }) - parkedBefore).toBe(held)
    expect(receiver.requests.length).toBe(receivedBeforePause)
    expect((await apiB.listEndpoints({ state: 'paused' })).map((e) => e.id)).toEqual([endpoint.id])

    // Resume through B: the backlog arrives, in order per account.
    const resumed = await apiB.request<EndpointView>('POST', `/v1/endpoints/${endpoint.id}/resume`)
    expect(resumed.body).toMatchObject({ state: 'enabled', paused: false })
    await waitUntil('the backlog delivered', () => checkPhase(third, narrowed).missing.length === 0, { timeoutMs: 30_000 })
    expect((await apiA.getEndpoint(endpoint.id))?.state).toBe('enabled')

    // Delete through A: both answer 404; further events are dropped.
    const deleted = await apiA.request('DELETE', `/v1/endpoints/${endpoint.id}`)
    expect(deleted.status).toBe(204)
    await waitUntil('B no longer has the endpoint', async () => (await apiB.getEndpoint(endpoint.id)) === undefined, { timeoutMs: 15_000 })
    for (const api of [apiA, apiB]) {
      const gone = await api.request('GET', `/v1/endpoints/${endpoint.id}`)
      expect(gone.status).toBe(404)
      expect(gone.body.error?.code).toBe('WHD_ERR_NOT_FOUND')
      expect(await api.listEndpoints()).toEqual([])
    }
    const receivedBeforeDelete = receiver.requests.length
    const droppedBeforeDelete = await sumMetric(metrics, 'webhooks_dropped_total')
    const fourth = await s.feed.publishTransactions(s.source, { count: 100, accounts: 20 })
    await waitUntil('the fourth events consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    expect(await sumMetric(metrics, 'webhooks_dropped_total') - droppedBeforeDelete).toBe(fourth.length)
    expect(receiver.requests.length).toBe(receivedBeforeDelete)

    // Over all phases: nothing missing or unexpected, order kept per account
    // across the filter change, the pause and the resume; nothing dead-lettered.
    for (const { produced, filter } of phases) {
      expect(checkPhase(produced, filter)).toMatchObject({ missing: [], unexpected: [] })
    }
    const all = checkDeliveries([...first, ...second, ...third], [{ id: endpoint.id, tenantId: TENANT_0, matches: () => true, accepted: receiver.accepted() }])
    expect(all.orderViolations).toEqual([])
    expect(all.unexpected).toEqual([])
    const expectedIds = new Set(phases.flatMap(({ produced, filter }) => produced.filter((e) => filter.some((f) => eventTypeMatches(f, e.eventType))).map((e) => e.eventId)))
    expect(new Set(receiver.accepted().map((r) => r.webhookId))).toEqual(expectedIds)
    expect(receiver.badSignatures()).toBe(0)
    expect(await sumMetric(metrics, 'webhooks_dead_letters_total')).toBe(0)

    /** The oracle for one phase: its events against the filter then in force. */
    function checkPhase (produced: readonly ProducedEvent[], filter: readonly string[]): ReturnType<typeof checkDeliveries> {
      const ids = new Set(produced.map((e) => e.eventId))
      return checkDeliveries(produced, [{
        id: endpoint.id,
        tenantId: TENANT_0,
        matches: (type) => filter.some((f) => eventTypeMatches(f, type)),
        accepted: receiver.accepted().filter((r) => ids.has(r.webhookId))
      }])
    }
  }, 120_000)

  it('versions endpoints: every instance, and one started later, answers the same ETag; a stale If-Match is refused with 412, not silently overwritten', async () => {
    const s = scenario = await createAdminScenario({ partitions: 1 })
    const a = await s.start()
    const b = await s.start()
    const apiA = adminClient(a.adminUrl, s.tokens.tenant0)
    const apiB = adminClient(b.adminUrl, s.tokens.tenant0)
    const receiver = await s.receiver()
    const { endpoint } = await apiA.createEndpoint({ url: receiver.url, eventTypes: ['transaction.*'], description: 'v1' })
    const path = `/v1/endpoints/${endpoint.id}`
    expect(endpoint.revision).toBe(1)
    expect((await apiA.request('GET', path)).headers.get('etag')).toBe('"1"')

    // Two writers read revision 1; A writes first, so B's write must fail instead of undoing A's.
    const written = await apiA.request<{ revision: number }>('PATCH', path, { description: 'by A' }, { 'if-match': '"1"' })
    expect(written.status).toBe(200)
    expect(written.headers.get('etag')).toBe('"2"')
    await waitUntil('B sees revision 2', async () => (await apiB.getEndpoint(endpoint.id))?.revision === 2, { timeoutMs: 15_000 })
    expect((await apiB.request('GET', path)).headers.get('etag')).toBe('"2"')
    const stale = await apiB.request('PATCH', path, { description: 'by B' }, { 'if-match': '"1"' })
    expect(stale.status).toBe(412)
    expect(stale.body.error?.code).toBe('WHD_ERR_PRECONDITION_FAILED')
    expect((await apiB.request('DELETE', path, undefined, { 'if-match': '"1"' })).status).toBe(412)
    expect(await apiA.getEndpoint(endpoint.id)).toMatchObject({ description: 'by A', revision: 2 })

    // The revision lives in the record on the subscriptions topic: an instance started now reads the same one.
    a.kill('SIGTERM')
    await a.exited
    const c = await s.start()
    const apiC = adminClient(c.adminUrl, s.tokens.tenant0)
    const fromC = await apiC.request('GET', path)
    expect(fromC.headers.get('etag')).toBe('"2"')
    expect(fromC.body).toMatchObject({ description: 'by A', revision: 2 })
    // Without If-Match a write is unconditional (documented).
    expect((await apiC.request('PATCH', path, { description: 'by C' })).headers.get('etag')).toBe('"3"')
    expect((await apiC.request('DELETE', path, undefined, { 'if-match': '"3"' })).status).toBe(204)
    await waitUntil('B sees the delete', async () => (await apiB.getEndpoint(endpoint.id)) === undefined, { timeoutMs: 15_000 })
  })

  it('a paused endpoint gets nothing while its events are consumed, then all of them in order on resume', async () => {
    const s = scenario = await createAdminScenario({ partitions: 4 })
    const dispatcher = await s.start()
    const api = adminClient(dispatcher.adminUrl, s.tokens.tenant0)
    const receiver = await s.receiver()
    const { endpoint, secret } = await api.createEndpoint({ url: receiver.url, eventTypes: ['*'] })
    receiver.setSecrets([secret])

    const paused = await api.request<EndpointView>('POST', `/v1/endpoints/${endpoint.id}/pause`)
    expect(paused.status).toBe(200)
    expect(paused.body).toMatchObject({ id: endpoint.id, state: 'paused', paused: true })
    const produced = await s.feed.publishTransactions(s.source, { count: 500, accounts: 50 })
    const metrics = [dispatcher.metricsUrl]
    await waitUntil('all 500 parked', async () => (await sumMetric(metrics, 'webhooks_settled_total', { outcome: 'parked', lane: 'source' })) >= 500, { timeoutMs: 30_000 })
    await waitUntil('every record consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    expect(await sumMetric(metrics, 'webhooks_settled_total', { outcome: 'parked', lane: 'source' })).toBe(500)
    expect(receiver.requests).toHaveLength(0)
    expect(await sumMetric(metrics, 'webhooks_deliveries_total')).toBe(0)
    // Still paused, and the parked backlog is held, not retried or dead-lettered.
    expect((await api.getEndpoint(endpoint.id))?.state).toBe('paused')
    await waitUntil('the retry lanes hold all 500', async () => (await sumMetric(metrics, 'webhooks_parked_backlog', { topic: s.source })) === 500, { timeoutMs: 15_000 })

    const resumed = await api.request<EndpointView>('POST', `/v1/endpoints/${endpoint.id}/resume`)
    expect(resumed.body).toMatchObject({ state: 'enabled', paused: false })
    const check = (): ReturnType<typeof checkDeliveries> => checkDeliveries(produced, [{ id: endpoint.id, tenantId: TENANT_0, matches: () => true, accepted: receiver.accepted() }])
    await waitUntil('the backlog delivered', () => check().missing.length === 0, { timeoutMs: 60_000 })
    await waitUntil('the parked backlog drained', async () => (await sumMetric(metrics, 'webhooks_parked_backlog', { topic: s.source })) === 0, { timeoutMs: 30_000 })
    expect(check()).toMatchObject({ expected: 500, missing: [], orderViolations: [], unexpected: [], duplicates: 0 })
    expect(receiver.requests).toHaveLength(500)
    expect(receiver.badSignatures()).toBe(0)
    expect(await sumMetric(metrics, 'webhooks_dead_letters_total')).toBe(0)
  }, 90_000)

  // A deletion reaches the engine as a store change without a subscription;
  // the held keys must be released so their items are dropped and counted.
  it('deleting a paused endpoint drops its parked backlog, counted, and the retry lanes catch up (C1)', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const dispatcher = await s.start()
    const api = adminClient(dispatcher.adminUrl, s.tokens.tenant0)
    const receiver = await s.receiver()
    const { endpoint, secret } = await api.createEndpoint({ url: receiver.url, eventTypes: ['*'] })
    receiver.setSecrets([secret])
    expect((await api.request('POST', `/v1/endpoints/${endpoint.id}/pause`)).status).toBe(200)
    await s.feed.publishTransactions(s.source, { count: 100, accounts: 10 })
    const metrics = [dispatcher.metricsUrl]
    await waitUntil('every record consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    await waitUntil('the retry lanes hold all 100', async () => (await sumMetric(metrics, 'webhooks_parked_backlog', { topic: s.source })) === 100, { timeoutMs: 15_000 })

    expect((await api.request('DELETE', `/v1/endpoints/${endpoint.id}`)).status).toBe(204)
    await waitUntil('the backlog dropped', async () => (await sumMetric(metrics, 'webhooks_parked_backlog', { topic: s.source })) === 0, { timeoutMs: 10_000 })
    await waitUntil('the retry topic consumed', () => groupCaughtUp(s.group, `${s.source}.retry.${s.group}`), { timeoutMs: 10_000 })
    expect(await sumMetric(metrics, 'webhooks_dropped_total', { reason: 'subscription-deleted' })).toBe(100)
    expect(receiver.requests).toHaveLength(0)
  }, 60_000)
})
