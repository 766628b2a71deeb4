// Dead letters through the admin API: listing and redrive, scoped by token.
// The dead-letter operations are an in-memory fake that filters and pages
// exactly as the Kafka-backed ones do (`matchesFilter`, `PageCollector`);
// the Kafka-backed one is wired in main.ts and covered by the redrive tests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RedriveConflictError } from '../../../services/dispatcher/src/errors.js'
import type { DeadLetter } from '../../../services/dispatcher/src/http/admin-api.js'
import { call, createEndpoint, endpointBody, startHarness, TENANT_A, type Harness } from '../../unit/dispatcher/http/harness.js'

let h: Harness
let subA: string
let subA2: string
let subB: string

const at = (iso: string): number => Date.parse(iso)

function letter (offset: number, fields: Partial<DeadLetter>): DeadLetter {
  return { id: `webhooks.dead-letter:0:${offset}`, topic: 'webhooks.dead-letter', partition: 0, offset: String(offset), state: 'dead', reason: 'retries-exhausted', sourceTopic: 'banking.transactions.v1', ...fields }
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
    expect(listA.body).toMatchObject({ total: 2, countByReason: { 'retries-exhausted': 1, 'endpoint-gone': 1 } })
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
      id: 'webhooks.dead-letter:0:0',
      topic: 'webhooks.dead-letter',
      partition: 0,
      offset: '0',
      state: 'dead',
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

  it('pages beyond 200 with a cursor, and counts every match by reason and state', async () => {
    // 450 letters over three partitions: more than the largest page.
    h.deadLetters.letters = Array.from({ length: 450 }, (_, i) => ({
      ...letter(Math.floor(i / 3), { subscriptionId: subA, accountId: `acc-${i}`, reason: i % 5 === 0 ? 'endpoint-disabled' : 'retries-exhausted' }),
      partition: i % 3,
      id: `webhooks.dead-letter:${i % 3}:${Math.floor(i / 3)}`,
      state: i < 10 ? 'redriven' : 'dead'
    }))
    const seen: string[] = []
    let cursor: string | undefined
    const sizes: number[] = []
    do {
      const page = await call(h, 'GET', `/v1/dead-letters?subscriptionId=${subA}&limit=200${cursor === undefined ? '' : `&cursor=${cursor}`}`, { token: 'tenantA' })
      expect(page.status).toBe(200)
      expect(page.body).toMatchObject({ total: 450, countByReason: { 'endpoint-disabled': 90, 'retries-exhausted': 360 }, countByState: { dead: 440, redriven: 10 } })
      sizes.push(page.body.items.length)
      seen.push(...page.body.items.map((item: { id: string }) => item.id))
      cursor = page.body.nextCursor
    } while (cursor !== undefined)
    expect(sizes).toEqual([200, 200, 50])
    expect(new Set(seen).size).toBe(450)
    // By partition, then offset.
    expect(seen.slice(0, 2)).toEqual(['webhooks.dead-letter:0:0', 'webhooks.dead-letter:0:1'])
    expect(seen.at(-1)).toBe('webhooks.dead-letter:2:149')

    const redriven = await call(h, 'GET', '/v1/dead-letters?state=redriven&state=delivered')
    expect(redriven.body.items).toHaveLength(10)
    expect(redriven.body).toMatchObject({ total: 10, countByState: { redriven: 10 } })
  })

  it('refuses a cursor it did not hand out', async () => {
    const forged = await call(h, 'GET', `/v1/dead-letters?cursor=${Buffer.from('{"p":1}').toString('base64url')}`)
    expect(forged.status).toBe(400)
    expect(forged.body.error).toMatchObject({ code: 'WHD_ERR_VALIDATION', field: 'cursor' })
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
  const states = (): string[] => h.deadLetters.letters.map((l) => `${l.offset}:${l.state}`)

  it('redrives only the tenant\'s own letters', async () => {
    const result = await call(h, 'POST', '/v1/dead-letters/redrive', { token: 'tenantB', body: { all: true } })
    expect(result.status).toBe(200)
    expect(result.body).toEqual({ dryRun: false, redriveId: 'redrive-1', matched: 1, redriven: 1, skipped: 0, complete: true, skippedByReason: {} })
    expect(h.deadLetters.redriveCalls).toEqual([{ filter: { subscriptionIds: [subB] }, dryRun: false, again: false, by: expect.stringMatching(/^admin-api:/) }])
    expect(states()).toEqual(['0:dead', '1:redriven', '2:dead', '3:dead'])
  })

  it('cannot redrive another tenant\'s letters by naming its subscription', async () => {
    const result = await call(h, 'POST', '/v1/dead-letters/redrive', { token: 'tenantB', body: { subscriptionId: [subA, subA2] } })
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ matched: 0, redriven: 0 })
    expect(h.deadLetters.redriveCalls).toEqual([])
    expect(states()).toEqual(['0:dead', '1:dead', '2:dead', '3:dead'])
  })

  it.each([['an operator', 'operator'], ['a tenant', 'tenantA']] as const)('refuses a redrive without a scope from %s, writing nothing', async (_who, token) => {
    for (const body of [{}, { dryRun: true }, { reason: 'retries-exhausted' }, { all: false }]) {
      const result = await call(h, 'POST', '/v1/dead-letters/redrive', { token, body })
      expect(result.status, JSON.stringify(body)).toBe(400)
      expect(result.body.error).toMatchObject({ code: 'WHD_ERR_VALIDATION', field: 'all' })
    }
    const noBody = await call(h, 'POST', '/v1/dead-letters/redrive', { token })
    expect(noBody.status).toBe(400)
    expect(h.deadLetters.redriveCalls).toEqual([])
    expect(states()).toEqual(['0:dead', '1:dead', '2:dead', '3:dead'])
  })

  it('takes a tenant as the scope; a tenant token may name only its own', async () => {
    const byTenant = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { tenantId: TENANT_A } })
    expect(byTenant.status).toBe(200)
    expect([...h.deadLetters.redriveCalls.at(-1)?.filter.subscriptionIds ?? []].sort()).toEqual([subA, subA2].sort())
    const other = await call(h, 'POST', '/v1/dead-letters/redrive', { token: 'tenantB', body: { tenantId: TENANT_A } })
    expect(other.status).toBe(403)
    expect(other.body.error).toMatchObject({ code: 'WHD_ERR_FORBIDDEN', field: 'tenantId' })
  })

  it('lets an operator redrive by any filter; a dry run answers wouldRedrive, never redriven', async () => {
    const dry = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { all: true, accountId: 'acc-1', from: '2025-01-01T00:00:00Z', to: at('2025-02-01T00:00:00Z'), dryRun: true } })
    expect(dry.body).toEqual({ dryRun: true, scanned: 4, matched: 1, wouldRedrive: 1, skipped: 0, complete: true, skippedByReason: {} })
    expect(states()).toEqual(['0:dead', '1:dead', '2:dead', '3:dead'])
    const real = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { all: true, reason: ['corrupt-avro', 'endpoint-gone'] } })
    expect(real.body).toMatchObject({ dryRun: false, matched: 2, redriven: 2 })
    expect(real.body).not.toHaveProperty('wouldRedrive')
    expect(h.deadLetters.redriveCalls.at(-1)).toMatchObject({ filter: { reasons: ['corrupt-avro', 'endpoint-gone'] }, dryRun: false })
    expect(states()).toEqual(['0:dead', '1:dead', '2:redriven', '3:redriven'])
  })

  it('skips letters redriven before, unless again: true', async () => {
    const first = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { subscriptionId: subA } })
    expect(first.body).toMatchObject({ matched: 1, redriven: 1, skipped: 0 })
    const second = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { subscriptionId: subA } })
    expect(second.body).toMatchObject({ matched: 1, redriven: 0, skipped: 1, skippedByReason: { 'already-redriven': 1 } })
    const again = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { subscriptionId: subA, again: true } })
    expect(again.body).toMatchObject({ matched: 1, redriven: 1, skipped: 0 })
    expect(h.deadLetters.redriveCalls.map((c) => c.again)).toEqual([false, false, true])
    expect(h.deadLetters.letters[0]).toMatchObject({ state: 'redriven', redrives: 2 })
  })

  it('answers 409 WHD_ERR_REDRIVE_CONFLICT to a redrive overlapping one that runs, and lets a disjoint one through', async () => {
    let release = (): void => undefined
    h.deadLetters.gate = new Promise((resolve) => { release = resolve })
    const first = call(h, 'POST', '/v1/dead-letters/redrive', { body: { subscriptionId: [subA, subB] } })
    await expect.poll(() => h.deadLetters.redriveCalls.length).toBe(1)
    const overlapping = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { all: true } })
    expect(overlapping.status).toBe(409)
    expect(overlapping.body.error.code).toBe('WHD_ERR_REDRIVE_CONFLICT')
    const tenant = await call(h, 'POST', '/v1/dead-letters/redrive', { token: 'tenantB', body: { all: true } })
    expect(tenant.status).toBe(409)
    const disjoint = call(h, 'POST', '/v1/dead-letters/redrive', { body: { subscriptionId: subA2 } })
    await expect.poll(() => h.deadLetters.redriveCalls.length).toBe(2)
    // A dry run writes nothing and never conflicts.
    const dry = call(h, 'POST', '/v1/dead-letters/redrive', { body: { all: true, dryRun: true } })
    await expect.poll(() => h.deadLetters.redriveCalls.length).toBe(3)
    release()
    expect((await first).status).toBe(200)
    expect((await disjoint).status).toBe(200)
    expect((await dry).status).toBe(200)
  })

  it('answers 409 when the lock on the state topic names a redrive running elsewhere', async () => {
    h.deadLetters.failWith = new RedriveConflictError('r-0', 'redrive r-0 is running over an overlapping set')
    const result = await call(h, 'POST', '/v1/dead-letters/redrive', { body: { all: true } })
    expect(result.status).toBe(409)
    expect(result.body.error.code).toBe('WHD_ERR_REDRIVE_CONFLICT')
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
