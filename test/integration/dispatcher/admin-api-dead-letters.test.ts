// Dead letters through the admin API: listing and redrive, scoped by token.
// The dead-letter operations are an in-memory fake that filters exactly as
// the redrive command does (`matchesFilter`); the Kafka-backed one is wired
// in main.ts and covered by the redrive tests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeadLetter } from '../../../services/dispatcher/src/http/admin-api.js'
import { call, createEndpoint, endpointBody, startHarness, type Harness } from '../../unit/dispatcher/http/harness.js'

let h: Harness
let subA: string
let subA2: string
let subB: string

const at = (iso: string): number => Date.parse(iso)

function letter (offset: number, fields: Partial<DeadLetter>): DeadLetter {
  return { topic: 'webhooks.dead-letter', partition: 0, offset: String(offset), reason: 'retries-exhausted', sourceTopic: 'banking.transactions.v1', ...fields }
}

beforeEach(async () => {
  h = await startHarness()
  subA = (await createEndpoint(h, 'tenantA', endpointBody())).endpoint.id
  subA2 = (await createEndpoint(h, 'tenantA', endpointBody())).endpoint.id
  subB = (await createEndpoint(h, 'tenantB', endpointBody())).endpoint.id
  h.deadLetters.letters = [
    letter(0, { subscriptionId: subA, accountId: 'acc-1', deadLetteredAt: at('2025-01-10T00:00:00Z'), attempts: 12, lastStatus: 503, lastError: 'status 503', firstFailureAt: at('2025-01-07T00:00:00Z'), sourcePartition: 3, sourceOffset: '42' }),
    letter(1, { subscriptionId: subB, accountId: 'acc-2', deadLetteredAt: at('2025-01-11T00:00:00Z') }),
    letter(2, { subscriptionId: subA2, accountId: 'acc-3', deadLetteredAt: at('2025-01-12T00:00:00Z'), reason: 'endpoint-gone' }),
    // An undecodable record: no subscription, operators only.
    letter(3, { reason: 'corrupt-avro', deadLetteredAt: at('2025-01-12T00:00:00Z') })
  ]
})
afterEach(async () => { await h.close() })

const offsets = (body: { items: Array<{ offset: string }> }): string[] => body.items.map((item) => item.offset)

describe('listing dead letters', () => {
  it('shows a tenant only the letters of its own subscriptions', async () => {
    const listA = await call(h, 'GET', '/v1/dead-letters', { token: 'tenantA' })
    expect(listA.status).toBe(200)
    expect(offsets(listA.body)).toEqual(['0', '2'])
    expect([...h.deadLetters.listCalls.at(-1)?.filter.subscriptionIds ?? []].sort()).toEqual([subA, subA2].sort())
    const listB = await call(h, 'GET', '/v1/dead-letters', { token: 'tenantB' })
    expect(offsets(listB.body)).toEqual(['1'])
  })

  it('shows operators every letter, undecodable ones included', async () => {
    const all = await call(h, 'GET', '/v1/dead-letters')
    expect(offsets(all.body)).toEqual(['0', '1', '2', '3'])
    expect(h.deadLetters.listCalls.at(-1)?.filter).toEqual({})
  })

  it('returns metadata with ISO-8601 times and no payload', async () => {
    const list = await call(h, 'GET', `/v1/dead-letters?subscriptionId=${subA}`, { token: 'tenantA' })
    expect(list.body.items).toEqual([{
      topic: 'webhooks.dead-letter',
      partition: 0,
      offset: '0',
      subscriptionId: subA,
      accountId: 'acc-1',
      reason: 'retries-exhausted',
      deadLetteredAt: '2025-01-10T00:00:00.000Z',
      firstFailureAt: '2025-01-07T00:00:00.000Z',
      sourceTopic: 'banking.transactions.v1',
      sourcePartition: 3,
      sourceOffset: '42',
      attempts: 12,
      lastStatus: 503,
      lastError: 'status 503'
    }])
  })

  it('filters by account, reason, time range and limit', async () => {
    expect(offsets((await call(h, 'GET', '/v1/dead-letters?accountId=acc-3&accountId=acc-2')).body)).toEqual(['1', '2'])
    expect(offsets((await call(h, 'GET', '/v1/dead-letters?reason=endpoint-gone')).body)).toEqual(['2'])
    const range = await call(h, 'GET', '/v1/dead-letters?from=2025-01-11&to=2025-01-12T00:00:00Z')
    expect(offsets(range.body)).toEqual(['1'])
    expect(h.deadLetters.listCalls.at(-1)?.filter).toEqual({ from: at('2025-01-11T00:00:00Z'), to: at('2025-01-12T00:00:00Z') })
    expect(offsets((await call(h, 'GET', `/v1/dead-letters?from=${at('2025-01-12T00:00:00Z')}`)).body)).toEqual(['2', '3'])
    expect(offsets((await call(h, 'GET', '/v1/dead-letters?limit=2')).body)).toEqual(['0', '1'])
    expect(h.deadLetters.listCalls.at(-1)?.limit).toBe(2)
  })

  it('never asks for another tenant\'s letters, even by id', async () => {
    const calls = h.deadLetters.listCalls.length
    const result = await call(h, 'GET', `/v1/dead-letters?subscriptionId=${subA}`, { token: 'tenantB' })
    expect(result.body.items).toEqual([])
    // An empty subscription list would match every letter: it is never passed on.
    expect(h.deadLetters.listCalls.length).toBe(calls)
  })

  it('shows nothing to a tenant without endpoints', async () => {
    await call(h, 'DELETE', `/v1/endpoints/${subB}`, { token: 'tenantB' })
    const result = await call(h, 'GET', '/v1/dead-letters', { token: 'tenantB' })
    expect(result.body.items).toEqual([])
    expect(h.deadLetters.listCalls).toEqual([])
  })

  it.each([
    ['from=yesterday', 'from'],
    ['to=2025-01-10T10:00:00', 'to'],
    ['from=2025-01-12&to=2025-01-11', 'to'],
    ['limit=0', 'limit'],
    ['from=1&from=2', 'from'],
    ['offset=3', 'offset']
  ])('refuses ?%s naming the parameter', async (query, field) => {
    const result = await call(h, 'GET', `/v1/dead-letters?${query}`)
    expect(result.status).toBe(400)
    expect(result.body.error).toMatchObject({ code: 'WHD_ERR_VALIDATION', field })
  })
})

describe('redriving dead letters', () => {
  it('redrives only the tenant\'s own letters', async () => {
    const result = await call(h, 'POST', '/v1/dead-letters/redrive', { token: 'tenantB', body: {} })
    expect(result.status).toBe(200)
    expect(result.body).toEqual({ dryRun: false, matched: 1, redriven: 1, skipped: 0, complete: true, skippedByReason: {} })
    expect(h.deadLetters.redriveCalls).toEqual([{ filter: { subscriptionIds: [subB] }, dryRun: false }])
    expect(offsets({ items: h.deadLetters.letters })).toEqual(['0', '2', '3'])
  })

  it('cannot redrive another tenant\'s letters by naming its subscription', async () => {
    const result = await call(h, 'POST', '/v1/dead-letters/redrive', { token: 'tenantB', body: { subscriptionId: [subA, subA2] } })
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ matched: 0, redriven: 0 })
    expect(h.deadLetters.redriveCalls).toEqual([])
    expect(h.deadLetters.letters).toHaveLength(4)
  })

  it('lets an operator redrive by any filter, with a dry run first', async () => {
    const dry = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { accountId: 'acc-1', from: '2025-01-01T00:00:00Z', to: at('2025-02-01T00:00:00Z'), dryRun: true } })
    expect(dry.body).toEqual({ dryRun: true, scanned: 4, matched: 1, redriven: 1, skipped: 0, complete: true, skippedByReason: {} })
    expect(h.deadLetters.letters).toHaveLength(4)
    const real = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { reason: ['corrupt-avro', 'endpoint-gone'] } })
    expect(real.body).toMatchObject({ dryRun: false, matched: 2, redriven: 2 })
    expect(h.deadLetters.redriveCalls.at(-1)).toEqual({ filter: { reasons: ['corrupt-avro', 'endpoint-gone'] }, dryRun: false })
    expect(offsets({ items: h.deadLetters.letters })).toEqual(['0', '1'])
  })

  it('runs one redrive at a time', async () => {
    let release = (): void => undefined
    h.deadLetters.gate = new Promise((resolve) => { release = resolve })
    const first = call(h, 'POST', '/v1/dead-letters/redrive', { body: {} })
    await expect.poll(() => h.deadLetters.redriveCalls.length).toBe(1)
    const second = await call(h, 'POST', '/v1/dead-letters/redrive', { body: {} })
    expect(second.status).toBe(409)
    expect(second.body.error.code).toBe('WHD_ERR_CONFLICT')
    release()
    expect((await first).status).toBe(200)
  })

  it.each([
    [{ dryRun: 'yes' }, 'dryRun'],
    [{ subscriptionId: [] }, 'subscriptionId'],
    [{ accountId: [1] }, 'accountId[0]'],
    [{ from: '2025-01-12', to: '2025-01-12' }, 'to'],
    [{ from: 'soon' }, 'from'],
    [{ topic: 'x' }, 'topic']
  ])('refuses %j naming the field', async (body, field) => {
    const result = await call(h, 'POST', '/v1/dead-letters/redrive', { body })
    expect(result.status).toBe(400)
    expect(result.body.error).toMatchObject({ code: 'WHD_ERR_VALIDATION', field })
    expect(h.deadLetters.redriveCalls).toEqual([])
  })
})
