// One schema, one set of limits: each bound holds the same at every entry
// point that can create or carry a subscription (the admin API, the store, a
// record on the subscriptions topic, the subscriptions file), and a tenant id
// the admin API cannot address is refused everywhere with a clear reason.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { parseAdminTokens } from '../../../../services/dispatcher/src/admin-tokens.js'
import { createSecretCipher } from '../../../../services/dispatcher/src/subscriptions/crypto.js'
import { MemorySubscriptionStore } from '../../../../services/dispatcher/src/subscriptions/memory-store.js'
import { decodeSubscriptionRecord, encodeSubscriptionRecord, type StoredSubscription } from '../../../../services/dispatcher/src/subscriptions/record.js'
import { subscriptionLimits } from '../../../../services/dispatcher/src/subscriptions/schema.js'
import { parseSubscriptions } from '../../../../services/dispatcher/src/subscriptions/subscriptions-file.js'
import { caBundleOfLength } from '../../../support/pem-fixtures.js'
import { call, startHarness, type Harness } from '../http/harness.js'

const L = subscriptionLimits
// Real certificates: the store parses PEM (subscriptions/tls-check.ts).
const pem = caBundleOfLength
const types = (n: number): string[] => Array.from({ length: n }, (_, i) => `type${i}.posted`)

/** Each limit: a field of an endpoint, its largest accepted value and the smallest refused one, and the field the refusal names. */
const limits: Array<{ name: string, fields: (ok: boolean) => Record<string, unknown>, field: string }> = [
  { name: `${L.eventTypesMax} event types`, fields: (ok) => ({ eventTypes: types(ok ? L.eventTypesMax : L.eventTypesMax + 1) }), field: 'eventTypes' },
  { name: `event types of ${L.eventTypeMaxLength} characters`, fields: (ok) => ({ eventTypes: [`a.${'b'.repeat(L.eventTypeMaxLength - (ok ? 2 : 1))}`] }), field: 'eventTypes[0]' },
  { name: `maxInFlight ${L.maxInFlightMax}`, fields: (ok) => ({ maxInFlight: ok ? L.maxInFlightMax : L.maxInFlightMax + 1 }), field: 'maxInFlight' },
  { name: `rateLimitPerSecond ${L.rateLimitPerSecondMin} at least`, fields: (ok) => ({ rateLimitPerSecond: ok ? L.rateLimitPerSecondMin : L.rateLimitPerSecondMin / 2 }), field: 'rateLimitPerSecond' },
  { name: `rateLimitPerSecond ${L.rateLimitPerSecondMax}`, fields: (ok) => ({ rateLimitPerSecond: ok ? L.rateLimitPerSecondMax : L.rateLimitPerSecondMax + 1 }), field: 'rateLimitPerSecond' },
  { name: `a description of ${L.descriptionMaxLength} characters`, fields: (ok) => ({ description: 'd'.repeat(ok ? L.descriptionMaxLength : L.descriptionMaxLength + 1) }), field: 'description' },
  { name: `a PEM of ${L.pemMaxLength} characters`, fields: (ok) => ({ tls: { caPem: pem(ok ? L.pemMaxLength : L.pemMaxLength + 1) } }), field: 'tls.caPem' },
  { name: 'a tenant id the admin API can address', fields: (ok) => ({ tenantId: ok ? 'tenant_1.a-b' : 'tenant a' }), field: 'tenantId' },
  { name: 'a tenant id the admin API can address (no non-ASCII letters)', fields: (ok) => ({ tenantId: ok ? 't'.repeat(L.tenantIdMaxLength) : 'ténant' }), field: 'tenantId' }
]

const ssrf = createSsrfPolicy({})
const cipher = createSecretCipher([{ id: 'k1', key: randomBytes(32) }], 'k1')
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const base = { tenantId: 'tenant-a', url: 'https://hooks.example.com/in', eventTypes: ['transaction.*'] }

/** Each entry point: resolves to undefined when it accepts, or the field it names when it refuses. */
type EntryPoint = (fields: Record<string, unknown>) => Promise<string | undefined>
const refusedField = (err: unknown): string => {
  const e = err as { code?: string, field?: string, message?: string }
  if (e.field !== undefined) return e.field
  // Record and file errors name the field in the message: `…: <field> …` or `….<field>: …`.
  return e.message ?? String(err)
}

let h: Harness
beforeAll(async () => { h = await startHarness() })
afterAll(async () => { await h.close() })

const entryPoints: Record<string, EntryPoint> = {
  'the admin API': async (fields) => {
    const result = await call(h, 'POST', '/v1/endpoints', { token: 'operator', body: { ...base, ...fields } })
    if (result.status === 201) return undefined
    expect(result.status, result.text).toBe(400)
    return result.body.error.field as string
  },
  'the store': async (fields) => {
    const store = new MemorySubscriptionStore({ ssrf })
    try {
      await store.create({ ...base, ...fields } as never)
      return undefined
    } catch (err) {
      return refusedField(err)
    }
  },
  'a record on the subscriptions topic': async (fields) => {
    const now = '2025-01-01T00:00:00.000Z'
    const stored = { id: 'sub-1', revision: 1, enabled: true, paused: false, createdAt: now, updatedAt: now, secrets: [{ secret, createdAt: now }], ...base, ...fields } as StoredSubscription
    const record = encodeSubscriptionRecord(stored, cipher)
    try {
      decodeSubscriptionRecord(record.key, record.value, cipher)
      return undefined
    } catch (err) {
      expect((err as { code?: string }).code).toBe('WHD_ERR_SUBSCRIPTIONS')
      return refusedField(err)
    }
  },
  'the subscriptions file': async (fields) => {
    try {
      parseSubscriptions({ subscriptions: [{ id: 'sub-1', secrets: [secret], ...base, ...fields }] }, 'subscriptions.json', ssrf)
      return undefined
    } catch (err) {
      expect((err as { code?: string }).code).toBe('WHD_ERR_SUBSCRIPTIONS')
      return refusedField(err)
    }
  }
}

describe.each(Object.entries(entryPoints))('%s', (_name, enter) => {
  it.each(limits)('accepts $name, refuses one more, naming $field', async ({ fields, field }) => {
    expect(await enter(fields(true))).toBeUndefined()
    expect(await enter(fields(false))).toContain(field)
  })
})

describe('a tenant id the admin API cannot address', () => {
  it('is refused with a reason that says why, in a record and in the file', async () => {
    const record = await entryPoints['a record on the subscriptions topic']?.({ tenantId: 'tenant a/b' })
    expect(record).toMatch(/subscriptions record "sub-1": tenantId must be a tenant id .*the admin API and ADMIN_TOKENS address no other/)
    const file = await entryPoints['the subscriptions file']?.({ tenantId: 'tenant a/b' })
    expect(file).toMatch(/subscriptions\.json: subscriptions\[0\]\.tenantId: must be a tenant id/)
  })

  it('is the rule ADMIN_TOKENS follows', () => {
    expect(parseAdminTokens(`${'a'.repeat(64)}:tenant_1.a-b`)[0]?.scope).toEqual({ kind: 'tenant', tenantId: 'tenant_1.a-b' })
    expect(() => parseAdminTokens(`${'a'.repeat(64)}:ténant`)).toThrow(/tenant id/)
  })
})

describe('rotation grace', () => {
  it(`is at most ${L.graceSecondsMax} seconds through the API and the store`, async () => {
    const store = new MemorySubscriptionStore({ ssrf })
    const { subscription } = await store.create(base)
    await expect(store.rotateSecret(subscription.id, L.graceSecondsMax)).resolves.toBeDefined()
    await expect(store.rotateSecret(subscription.id, L.graceSecondsMax + 1)).rejects.toMatchObject({ field: 'graceSeconds' })
    const created = await call(h, 'POST', '/v1/endpoints', { token: 'operator', body: base })
    const path = `/v1/endpoints/${created.body.endpoint.id as string}/rotate-secret`
    expect((await call(h, 'POST', path, { body: { graceSeconds: L.graceSecondsMax } })).status).toBe(200)
    expect((await call(h, 'POST', path, { body: { graceSeconds: L.graceSecondsMax + 1 } })).body.error).toMatchObject({ code: 'WHD_ERR_VALIDATION', field: 'graceSeconds' })
  })
})
