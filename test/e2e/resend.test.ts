// POST /v1/events/{eventId}/resend (DESIGN §11) end to end: the event read
// back from Kafka and delivered again with its original webhook-id and body,
// recorded in the history as a manual attempt; tenant-scoped; every refusal
// with its code, down to a record that retention has removed.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { adminClient, createAdminScenario, TENANT_0, TENANT_1, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { allAttempts } from '../support/history-client.js'
import { testKafka } from '../support/kafka.js'
import type { ProducedEvent } from '../support/oracle.js'
import { scaled, waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

describe('resend', () => {
  const secret = generateSecret()
  let scenario: AdminScenario
  let dispatcher: DispatcherProcess
  let all: TestReceiver
  let narrow: TestReceiver
  let other: TestReceiver
  let produced: ProducedEvent[]

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 2 })
    all = await startTestReceiver(secret)
    narrow = await startTestReceiver(secret)
    other = await startTestReceiver(secret)
    dispatcher = await scenario.start({
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([
        { id: 'sub-all', tenantId: TENANT_0, url: all.url, eventTypes: ['*'], secrets: [secret] },
        // Takes nothing the feed publishes: a resend to it is a mismatch.
        { id: 'sub-narrow', tenantId: TENANT_0, url: narrow.url, eventTypes: ['fraud.*'], secrets: [secret] },
        { id: 'sub-other', tenantId: TENANT_1, url: other.url, eventTypes: ['*'], secrets: [secret] }
      ]),
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000'
    })
    produced = await scenario.feed.publishTransactions(scenario.source, { count: 40, accounts: 8, tenants: 2 })
    const ofTenant = (t: string): number => produced.filter((e) => e.tenantId === t).length
    await waitUntil('first deliveries', () => all.acceptedIds() === ofTenant(TENANT_0) && other.acceptedIds() === ofTenant(TENANT_1), { timeoutMs: 60_000 })
  }, scaled(120_000))

  afterAll(async () => {
    await Promise.all([all, narrow, other].map(async (r) => await r?.close()))
    await scenario?.close()
  })

  const eventOf = (tenant: string, index = 0): ProducedEvent => produced.filter((e) => e.tenantId === tenant)[index] as ProducedEvent

  it('delivers the event again with its webhook-id and body, recorded as a manual attempt', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const event = eventOf(TENANT_0)
    await waitUntil('the event indexed', async () => (await tenant0.request('GET', `/v1/events/${event.eventId}`)).status === 200, { timeoutMs: 30_000 })
    const before = all.received.length
    const res = await tenant0.request<{ eventId: string, deliveries: unknown[] }>('POST', `/v1/events/${event.eventId}/resend`)
    expect([res.status, res.body]).toEqual([200, { eventId: event.eventId, deliveries: [{ endpointId: 'sub-all', delivered: true }] }])
    // Exactly one more request, to that endpoint only, the same id and body as the first.
    expect(all.received.length).toBe(before + 1)
    const copies = all.received.filter((r) => r.webhookId === event.eventId)
    expect(copies.length).toBe(2)
    expect(copies[1]?.raw).toBe(copies[0]?.raw)
    expect(other.received.some((r) => r.webhookId === event.eventId)).toBe(false)
    // In the history: the live delivery, then the manual one.
    const manual = await waitUntil('the manual attempt indexed', async () => {
      const records = (await allAttempts(tenant0, 'sub-all')).filter((r) => r.eventId === event.eventId && r.lane === 'manual')
      return records.length === 1 ? records[0] : undefined
    }, { timeoutMs: 30_000 })
    expect(manual).toMatchObject({ kind: 'attempt', outcome: 'delivered', httpStatus: 204, attemptNumber: 2 })

    // Named endpoint: the same, and a receiver that refuses is reported, not retried.
    all.setBehaviour(() => ({ status: 500 }))
    const rejected = await tenant0.request('POST', `/v1/events/${event.eventId}/resend`, { endpointId: 'sub-all' })
    all.setBehaviour(() => ({ status: 204 }))
    expect([rejected.status, rejected.body]).toEqual([200, { eventId: event.eventId, deliveries: [{ endpointId: 'sub-all', delivered: false, reason: 'rejected' }] }])
    await waitUntil('the failed manual attempt indexed', async () =>
      (await allAttempts(tenant0, 'sub-all', { outcome: 'failed' })).some((r) => r.eventId === event.eventId && r.lane === 'manual' && r.httpStatus === 500 && r.attemptNumber === 3), { timeoutMs: 30_000 })
  }, scaled(90_000))

  it('refuses, each with its code: unknown or foreign events and endpoints, mismatched and inactive endpoints', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const tenant1 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant1)
    const operator = adminClient(dispatcher.adminUrl, scenario.tokens.operator)
    const event = eventOf(TENANT_0, 1)
    await waitUntil('the event indexed', async () => (await tenant0.request('GET', `/v1/events/${event.eventId}`)).status === 200, { timeoutMs: 30_000 })
    const before = all.received.length + narrow.received.length + other.received.length
    const refusal = async (client: typeof tenant0, eventId: string, body?: unknown): Promise<[number, string | undefined]> => {
      const res = await client.request('POST', `/v1/events/${eventId}/resend`, body)
      return [res.status, res.body?.error?.code]
    }
    expect(await refusal(tenant0, randomUUID())).toEqual([404, 'WHD_ERR_NOT_FOUND'])
    // Another tenant's event is, to tenant 1, an unknown one; so is another tenant's endpoint.
    expect(await refusal(tenant1, event.eventId)).toEqual([404, 'WHD_ERR_NOT_FOUND'])
    expect(await refusal(tenant0, event.eventId, { endpointId: 'sub-other' })).toEqual([404, 'WHD_ERR_NOT_FOUND'])
    expect(await refusal(tenant0, event.eventId, { endpointId: 'no-such-endpoint' })).toEqual([404, 'WHD_ERR_NOT_FOUND'])
    // An operator sees both: the endpoint is not the event's tenant's.
    expect(await refusal(operator, event.eventId, { endpointId: 'sub-other' })).toEqual([409, 'WHD_ERR_ENDPOINT_MISMATCH'])
    expect(await refusal(tenant0, event.eventId, { endpointId: 'sub-narrow' })).toEqual([409, 'WHD_ERR_ENDPOINT_MISMATCH'])
    expect(await refusal(tenant0, event.eventId, { endpointId: 'bad id!' })).toEqual([400, 'WHD_ERR_VALIDATION'])
    expect(await refusal(tenant0, event.eventId, { colour: 'red' })).toEqual([400, 'WHD_ERR_VALIDATION'])

    expect((await tenant0.request('POST', '/v1/endpoints/sub-all/pause')).status).toBe(200)
    expect(await refusal(tenant0, event.eventId, { endpointId: 'sub-all' })).toEqual([409, 'WHD_ERR_ENDPOINT_INACTIVE'])
    expect(await refusal(tenant0, event.eventId)).toEqual([409, 'WHD_ERR_ENDPOINT_INACTIVE'])
    expect((await tenant0.request('POST', '/v1/endpoints/sub-all/resume')).status).toBe(200)
    expect((await tenant0.request('POST', '/v1/endpoints/sub-all/disable')).status).toBe(200)
    expect(await refusal(tenant0, event.eventId, { endpointId: 'sub-all' })).toEqual([409, 'WHD_ERR_ENDPOINT_INACTIVE'])
    expect((await tenant0.request('POST', '/v1/endpoints/sub-all/enable')).status).toBe(200)
    // Not one request went out for a refusal.
    expect(all.received.length + narrow.received.length + other.received.length).toBe(before)
  }, scaled(60_000))

  it('answers 410 WHD_ERR_GONE once the record is no longer on Kafka', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const event = eventOf(TENANT_0, 2)
    const view = await waitUntil('the event indexed', async () => {
      const res = await tenant0.request<{ source: { partition: number, offset: string } }>('GET', `/v1/events/${event.eventId}`)
      return res.status === 200 ? res.body : undefined
    }, { timeoutMs: 30_000 })
    // What retention does, at once: the log start moves past the record.
    const admin = (await testKafka('test-resend-gone')).admin()
    await admin.connect()
    try {
      // deleteTopicRecords finds the partition's leader in metadata it does not load itself.
      await admin.fetchTopicMetadata({ topics: [scenario.source] })
      await admin.deleteTopicRecords({ topic: scenario.source, partitions: [{ partition: view.source.partition, offset: (BigInt(view.source.offset) + 1n).toString() }] })
    } finally {
      await admin.disconnect()
    }
    const before = all.received.length
    const res = await tenant0.request('POST', `/v1/events/${event.eventId}/resend`)
    expect([res.status, res.body?.error?.code]).toEqual([410, 'WHD_ERR_GONE'])
    expect(all.received.length).toBe(before)
  }, scaled(60_000))
})
