import { afterEach, describe, expect, it } from 'vitest'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { readTopic } from '../support/dead-letters.js'
import { readMetric } from '../support/dispatcher-process.js'
import { uniqueTopic } from '../support/kafka.js'
import { waitUntil } from '../support/wait.js'

describe('operational endpoint events', () => {
  let scenario: AdminScenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('publishes each disable (410 Gone) and re-enable exactly once on the endpoint-events topic', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const eventsTopic = uniqueTopic('e2e-endpoint-events')
    const env = { ENDPOINT_EVENTS_TOPIC: eventsTopic }
    // Two instances: each sees every change in the subscriptions topic, and
    // the event must still be written once.
    const first = await s.start(env)
    const second = await s.start(env)
    const receiver = await s.receiver()
    receiver.setStatus(410)
    const api = adminClient(first.adminUrl, s.tokens.tenant0)
    const { endpoint, secret } = await api.createEndpoint({ tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'] })
    receiver.setSecrets([secret])
    await waitUntil('both instances know the endpoint', async () => (await adminClient(second.adminUrl, s.tokens.tenant0).getEndpoint(endpoint.id)) !== undefined)

    await s.feed.publishTransactions(s.source, { count: 5, accounts: 1 })
    const disabled = await waitUntil('an endpoint.disabled event', async () => {
      const events = (await readTopic(eventsTopic).catch(() => [])).map((r) => JSON.parse(r.value?.toString() ?? '{}') as Record<string, string>)
      return events.some((e) => e.type === 'endpoint.disabled') ? events : undefined
    }, { timeoutMs: 30_000 })
    expect(disabled.filter((e) => e.type === 'endpoint.disabled')).toEqual([
      expect.objectContaining({ type: 'endpoint.disabled', subscriptionId: endpoint.id, tenantId: TENANT_0, reason: 'endpoint answered 410 Gone' })
    ])
    // Counted once, by the instance that saw the 410, with its cause.
    const disables = async (cause: string): Promise<number> =>
      (await readMetric(first.metricsUrl, `webhooks_endpoint_disables_total{cause="${cause}"}`)) + (await readMetric(second.metricsUrl, `webhooks_endpoint_disables_total{cause="${cause}"}`))
    expect(await disables('gone')).toBe(1)
    expect(await disables('operator')).toBe(0)

    receiver.setStatus(204)
    const enabled = await api.request('POST', `/v1/endpoints/${endpoint.id}/enable`)
    expect(enabled.status).toBe(200)
    const events = await waitUntil('an endpoint.enabled event', async () => {
      const all = (await readTopic(eventsTopic)).map((r) => JSON.parse(r.value?.toString() ?? '{}') as Record<string, string>)
      return all.some((e) => e.type === 'endpoint.enabled') ? all : undefined
    }, { timeoutMs: 30_000 })
    // Wait until both instances have applied the change, then count again:
    // neither may have announced it a second time.
    await waitUntil('both instances see it enabled', async () => (await adminClient(second.adminUrl, s.tokens.tenant0).getEndpoint(endpoint.id))?.enabled === true)
    const final = (await readTopic(eventsTopic)).map((r) => JSON.parse(r.value?.toString() ?? '{}') as Record<string, string>)
    expect(final.map((e) => e.type)).toEqual(['endpoint.disabled', 'endpoint.enabled'])
    expect(events.at(-1)).toMatchObject({ subscriptionId: endpoint.id, tenantId: TENANT_0 })

    // An operator's disable counts too, under its own cause (the alert covers both).
    expect((await api.request('POST', `/v1/endpoints/${endpoint.id}/disable`, {})).status).toBe(200)
    expect(await disables('operator')).toBe(1)
    expect(await disables('gone')).toBe(1)
  }, 120_000)
})
