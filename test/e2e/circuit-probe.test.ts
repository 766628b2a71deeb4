// After an endpoint is fixed, an operator's probe closes its open circuit at
// once: the deliveries the circuit held go out in order right away instead
// of waiting for the next probe (here 10 minutes, longer than the test).
import { afterEach, describe, expect, it } from 'vitest'
import { readMetric } from '../support/dispatcher-process.js'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { waitUntil } from '../support/wait.js'

describe('closing an open circuit', () => {
  let scenario: AdminScenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('POST …/probe sends the deliveries the circuit held at once, in order per account', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const dispatcher = await s.start({
      CIRCUIT_FAILURE_THRESHOLD: '3',
      // The first open period outlasts the test: only the probe can close it in time.
      CIRCUIT_OPEN_MS: '600000',
      RETRY_SCHEDULE_MS: '100'
    })
    const receiver = await s.receiver()
    receiver.setStatus(503)
    const api = adminClient(dispatcher.adminUrl, s.tokens.tenant0)
    const { endpoint, secret } = await api.createEndpoint({ tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'] })
    receiver.setSecrets([secret])
    const metric = async (name: string): Promise<number> => await readMetric(dispatcher.metricsUrl, name)

    // Three failures open the circuit.
    const opening = await s.feed.publishTransactions(s.source, { count: 3, accounts: 3 })
    await waitUntil('the circuit is open', async () => (await metric('webhooks_circuit_breakers{state="open"}')) === 1, { timeoutMs: 30_000 })
    // Then every delivery parks unattempted, and the retry lane, reading each
    // as the never-attempted head of its key, holds it for the circuit.
    const held = await s.feed.publishTransactions(s.source, { count: 20, accounts: 4 })
    await waitUntil('every delivery parked and read by the retry lanes', async () =>
      (await metric('webhooks_settled_total{outcome="parked",lane="source"}')) >= 23 && (await metric('webhooks_parked_backlog')) >= 23, { timeoutMs: 30_000 })
    expect(receiver.requests.length).toBeLessThanOrEqual(4)
    expect((await api.request('GET', `/v1/endpoints/${endpoint.id}/status`)).body).toMatchObject({ circuit: 'open' })

    receiver.setStatus(204)
    const probed = await api.request('POST', `/v1/endpoints/${endpoint.id}/probe`, {})
    expect(probed.status).toBe(200)
    expect(probed.body).toMatchObject({ id: endpoint.id, circuit: 'closed' })

    const produced = [...opening, ...held]
    await waitUntil('every event delivered after the probe', () => new Set(receiver.accepted().map((r) => r.webhookId)).size === produced.length, { timeoutMs: 30_000 })
    for (const account of new Set(produced.map((e) => e.accountId))) {
      const seen = new Set<string>()
      const firsts = receiver.accepted().filter((r) => r.accountId === account && !seen.has(r.webhookId) && seen.add(r.webhookId) !== undefined).map((r) => r.accountSequence)
      expect(firsts, account).toEqual([...firsts].sort((a, b) => a - b))
    }
    expect(await metric('webhooks_dead_letters_total')).toBe(0)
  }, 120_000)
})
