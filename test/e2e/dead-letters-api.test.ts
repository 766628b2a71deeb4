// The dead-letter lifecycle through the admin API of two instances on a real
// Kafka: a redrive needs a scope, a dry run says wouldRedrive, listing pages
// with a cursor and counts, two overlapping redrives through two instances
// at once send each letter once (one gives way with 409, or finds them
// redriven), the same redrive again sends nothing, and the letters end up
// listed as delivered.
import { afterEach, describe, expect, it } from 'vitest'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { readMetric } from '../support/dispatcher-process.js'
import { waitUntil } from '../support/wait.js'

interface Page { items: Array<{ id: string, state: string, redrivenBy?: string }>, nextCursor?: string, total: number, countByReason: Record<string, number>, countByState: Record<string, number> }

describe('dead letters through the admin API', () => {
  let scenario: AdminScenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('redrives each letter once, however often and through however many instances it is asked', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const first = await s.start()
    const second = await s.start()
    const receiver = await s.receiver()
    const operator1 = adminClient(first.adminUrl, s.tokens.operator)
    const operator2 = adminClient(second.adminUrl, s.tokens.operator)
    const tenant = adminClient(first.adminUrl, s.tokens.tenant0)
    const { endpoint, secret } = await tenant.createEndpoint({ tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'] })
    receiver.setSecrets([secret])
    await waitUntil('both instances know the endpoint', async () => (await adminClient(second.adminUrl, s.tokens.tenant0).getEndpoint(endpoint.id)) !== undefined)
    expect((await tenant.request('POST', `/v1/endpoints/${endpoint.id}/disable`, {})).status).toBe(200)
    await waitUntil('both instances see it disabled', async () => (await adminClient(second.adminUrl, s.tokens.tenant0).getEndpoint(endpoint.id))?.enabled === false)

    const produced = await s.feed.publishTransactions(s.source, { count: 30, accounts: 6 })
    const deadLettered = async (): Promise<number> => (await readMetric(first.metricsUrl, 'webhooks_dead_letters_total')) + (await readMetric(second.metricsUrl, 'webhooks_dead_letters_total'))
    await waitUntil('30 dead letters', async () => (await deadLettered()) === 30, { timeoutMs: 60_000 })

    // Listing: pages of 12 with a cursor, counts over all 30.
    const ids: string[] = []
    let cursor: string | undefined
    do {
      const page = await tenant.request<Page>('GET', `/v1/dead-letters?subscriptionId=${endpoint.id}&limit=12${cursor === undefined ? '' : `&cursor=${cursor}`}`)
      expect(page.status).toBe(200)
      expect(page.body).toMatchObject({ total: 30, countByReason: { 'endpoint-disabled': 30 }, countByState: { dead: 30 } })
      ids.push(...page.body.items.map((item) => item.id))
      cursor = page.body.nextCursor
    } while (cursor !== undefined)
    expect(new Set(ids).size).toBe(30)

    // No scope, no redrive; a dry run says what it would do and does nothing.
    const unscoped = await operator1.request('POST', '/v1/dead-letters/redrive', {})
    expect(unscoped.status).toBe(400)
    expect(unscoped.body).toMatchObject({ error: { code: 'WHD_ERR_VALIDATION', field: 'all' } })
    const dry = await operator1.request('POST', '/v1/dead-letters/redrive', { all: true, dryRun: true })
    expect(dry.body).toMatchObject({ dryRun: true, matched: 30, wouldRedrive: 30 })
    expect(dry.body).not.toHaveProperty('redriven')

    expect((await tenant.request('POST', `/v1/endpoints/${endpoint.id}/enable`, {})).status).toBe(200)
    await waitUntil('both instances see it enabled', async () => (await adminClient(second.adminUrl, s.tokens.tenant0).getEndpoint(endpoint.id))?.enabled === true)
    expect(receiver.requests).toHaveLength(0)

    // Two overlapping redrives at once, through two instances.
    const [a, b] = await Promise.all([
      operator1.request('POST', '/v1/dead-letters/redrive', { subscriptionId: endpoint.id }),
      operator2.request('POST', '/v1/dead-letters/redrive', { tenantId: TENANT_0 })
    ])
    for (const answer of [a, b]) {
      expect([200, 409]).toContain(answer.status)
      if (answer.status === 409) expect(answer.body).toMatchObject({ error: { code: 'WHD_ERR_REDRIVE_CONFLICT' } })
    }
    const redriven = [a, b].filter((answer) => answer.status === 200).reduce((sum, answer) => sum + (answer.body as { redriven: number }).redriven, 0)
    expect(redriven).toBe(30)
    await waitUntil('every event delivered', () => new Set(receiver.accepted().map((r) => r.webhookId)).size === produced.length, { timeoutMs: 60_000 })

    // The same redrive again sends nothing.
    const again = await operator1.request('POST', '/v1/dead-letters/redrive', { subscriptionId: endpoint.id })
    expect(again.body).toMatchObject({ matched: 30, redriven: 0, skipped: 30, skippedByReason: { 'already-redriven': 30 } })
    await waitUntil('the letters listed as delivered', async () =>
      (await tenant.request<Page>('GET', `/v1/dead-letters?subscriptionId=${endpoint.id}&state=delivered&limit=200`)).body.total === 30, { timeoutMs: 60_000 })
    const delivered = await tenant.request<Page>('GET', `/v1/dead-letters?subscriptionId=${endpoint.id}&state=delivered&limit=200`)
    expect(delivered.body.items.every((item) => item.redrivenBy?.startsWith('admin-api:') === true)).toBe(true)
    expect(receiver.accepted()).toHaveLength(30)
  }, 180_000)
})
