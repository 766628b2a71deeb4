import { beforeEach, describe, expect, it } from 'vitest'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { EndpointUrlBlockedError, SubscriptionNotFoundError } from '../../../../services/dispatcher/src/errors.js'
import { MemorySubscriptionStore } from '../../../../services/dispatcher/src/subscriptions/memory-store.js'
import type { SubscriptionInput } from '../../../../services/dispatcher/src/subscriptions/store.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const START = Date.parse('2025-03-01T12:00:00.000Z')

async function rejection (promise: Promise<unknown> | (() => unknown)): Promise<{ code?: string, field?: string, reason?: string, message: string }> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (err) {
    return err as { code?: string, field?: string, reason?: string, message: string }
  }
  throw new Error('expected a rejection')
}

describe('MemorySubscriptionStore', () => {
  let clock: number
  let ids: number
  let secrets: number
  let store: MemorySubscriptionStore
  let changes: Array<[string, Subscription | undefined]>
  let errors: unknown[]

  const input = (over: Partial<SubscriptionInput> = {}): SubscriptionInput =>
    ({ tenantId: 'tenant-a', url: 'https://hooks.example.com/in', eventTypes: ['transaction.*'], ...over })

  beforeEach(() => {
    clock = START
    ids = 0
    secrets = 0
    changes = []
    errors = []
    store = new MemorySubscriptionStore({
      ssrf: createSsrfPolicy({}),
      now: () => clock,
      newId: () => `sub-${String(++ids).padStart(3, '0')}`,
      // Distinct, valid secrets the test can tell apart.
      newSecret: () => `whsec_${Buffer.from(`secret-number-${String(++secrets).padStart(10, '0')}`).toString('base64')}`,
      onError: (err) => errors.push(err)
    })
    store.onChange((id, s) => changes.push([id, s]))
  })

  describe('create', () => {
    it('stores a validated subscription with a fresh secret and tells listeners', async () => {
      const { subscription, secret } = await store.create(input({ url: 'https://HOOKS.example.com:443/in', description: 'ledger', maxInFlight: 4, rateLimitPerSecond: 2.5 }))
      expect(secret).toMatch(/^whsec_/)
      expect(subscription).toEqual({
        id: 'sub-001',
        tenantId: 'tenant-a',
        revision: 1,
        url: 'https://hooks.example.com/in',
        eventTypes: ['transaction.*'],
        secrets: [secret],
        enabled: true,
        paused: false,
        maxInFlight: 4,
        rateLimitPerSecond: 2.5,
        description: 'ledger',
        createdAt: '2025-03-01T12:00:00.000Z',
        updatedAt: '2025-03-01T12:00:00.000Z'
      })
      expect(store.get('sub-001')).toEqual(subscription)
      expect(store.forTenant('tenant-a')).toEqual([subscription])
      expect(store.forTenant('tenant-b')).toEqual([])
      expect(store.all()).toEqual([subscription])
      expect(store.revealSecrets('sub-001')).toEqual([secret])
      expect(changes).toEqual([['sub-001', subscription]])
    })

    it('hands out frozen views, so callers cannot change the store behind its back', async () => {
      const { subscription } = await store.create(input())
      expect(Object.isFrozen(subscription)).toBe(true)
      expect(Object.isFrozen(subscription.secrets)).toBe(true)
      expect(() => { (subscription as { enabled: boolean }).enabled = false }).toThrow(TypeError)
      expect(() => subscription.eventTypes.push('x')).toThrow(TypeError)
      expect(store.get(subscription.id)?.enabled).toBe(true)
    })

    it.each([
      ['transaction.posted'],
      ['transaction.*'],
      ['*'],
      ['fraud_alert.raised'],
      ['a.b.c.*']
    ])('accepts the event type filter %s', async (eventType) => {
      const { subscription } = await store.create(input({ eventTypes: [eventType] }))
      expect(subscription.eventTypes).toEqual([eventType])
    })

    it('refuses a repeated event type, naming the repeat (the admin API\'s rule: one schema)', async () => {
      await expect(store.create(input({ eventTypes: ['b.x', 'a.*', 'b.x'] }))).rejects.toMatchObject({ code: 'WHD_ERR_VALIDATION', field: 'eventTypes[2]' })
      expect(store.all()).toEqual([])
    })

    const invalidInputs: Array<[string, Record<string, unknown>, string, string]> = [
      ['no tenant', { tenantId: undefined }, 'WHD_ERR_VALIDATION', 'tenantId'],
      ['a tenant with a space', { tenantId: 'tenant a' }, 'WHD_ERR_VALIDATION', 'tenantId'],
      ['no url', { url: undefined }, 'WHD_ERR_VALIDATION', 'url'],
      ['no event types', { eventTypes: undefined }, 'WHD_ERR_VALIDATION', 'eventTypes'],
      ['empty event types', { eventTypes: [] }, 'WHD_ERR_VALIDATION', 'eventTypes'],
      ['a trailing dot', { eventTypes: ['transaction.posted', 'transaction.'] }, 'WHD_ERR_VALIDATION', 'eventTypes[1]'],
      ['a wildcard in the middle', { eventTypes: ['*.posted'] }, 'WHD_ERR_VALIDATION', 'eventTypes[0]'],
      ['a space in an event type', { eventTypes: ['transaction posted'] }, 'WHD_ERR_VALIDATION', 'eventTypes[0]'],
      ['a non-string event type', { eventTypes: [7] }, 'WHD_ERR_VALIDATION', 'eventTypes[0]'],
      ['maxInFlight 0', { maxInFlight: 0 }, 'WHD_ERR_VALIDATION', 'maxInFlight'],
      ['fractional maxInFlight', { maxInFlight: 1.5 }, 'WHD_ERR_VALIDATION', 'maxInFlight'],
      ['negative rate limit', { rateLimitPerSecond: -1 }, 'WHD_ERR_VALIDATION', 'rateLimitPerSecond'],
      ['a rate limit of NaN', { rateLimitPerSecond: Number.NaN }, 'WHD_ERR_VALIDATION', 'rateLimitPerSecond'],
      ['a long description', { description: 'x'.repeat(501) }, 'WHD_ERR_VALIDATION', 'description'],
      ['a client cert without its key', { tls: { clientCertPem: '-----BEGIN CERTIFICATE-----\n' } }, 'WHD_ERR_VALIDATION', 'tls.clientKeyPem'],
      ['a tls value that is not PEM', { tls: { caPem: 'hello' } }, 'WHD_ERR_VALIDATION', 'tls.caPem'],
      ['an unknown field', { secrets: ['whsec_AAAA'] }, 'WHD_ERR_VALIDATION', 'secrets'],
      ['an ftp URL', { url: 'ftp://hooks.example.com/' }, 'WHD_ERR_URL_INVALID', 'url'],
      ['an http URL (https only by default)', { url: 'http://hooks.example.com/' }, 'WHD_ERR_URL_INVALID', 'url'],
      ['a relative URL', { url: '/hooks' }, 'WHD_ERR_URL_INVALID', 'url'],
      ['credentials in the URL', { url: 'https://user:pw@hooks.example.com/' }, 'WHD_ERR_URL_INVALID', 'url'],
      ['loopback', { url: 'https://127.0.0.1/hook' }, 'WHD_ERR_SSRF_BLOCKED', 'url'],
      ['cloud metadata', { url: 'https://169.254.169.254/latest' }, 'WHD_ERR_SSRF_BLOCKED', 'url'],
      ['a private address in hex', { url: 'https://0x0a000001/' }, 'WHD_ERR_SSRF_BLOCKED', 'url'],
      ['IPv4-mapped IPv6 loopback', { url: 'https://[::ffff:127.0.0.1]/' }, 'WHD_ERR_SSRF_BLOCKED', 'url'],
      ['localhost', { url: 'https://localhost:8443/' }, 'WHD_ERR_SSRF_BLOCKED', 'url']
    ]

    it.each(invalidInputs)('rejects %s with %s on field %s and stores nothing', async (_name, over, code, field) => {
      const err = await rejection(store.create({ ...input(), ...over } as SubscriptionInput))
      expect(err.code).toBe(code)
      expect(err.field).toBe(field)
      expect(err.message).toMatch(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}: `))
      expect(err.reason).toBeTruthy()
      expect(store.all()).toEqual([])
      expect(changes).toEqual([])
    })

    it('says why a URL is blocked', async () => {
      const err = await rejection(store.create(input({ url: 'https://169.254.169.254/' })))
      expect(err).toBeInstanceOf(EndpointUrlBlockedError)
      expect(err.message).toMatch(/link-local/)
    })

    it('opens private ranges and http only when the policy allows them', async () => {
      const open = new MemorySubscriptionStore({ ssrf: createSsrfPolicy({ allowCidrs: ['127.0.0.0/8'], allowHttp: true }) })
      const { subscription } = await open.create(input({ url: 'http://127.0.0.1:8080/hook' }))
      expect(subscription.url).toBe('http://127.0.0.1:8080/hook')
      expect((await rejection(open.create(input({ url: 'http://10.0.0.1/' })))).code).toBe('WHD_ERR_SSRF_BLOCKED')
    })
  })

  describe('update, pause, enable, delete', () => {
    it('applies a patch, re-validates the URL, and clears optional fields given null', async () => {
      const { subscription: created } = await store.create(input({ description: 'old', maxInFlight: 2 }))
      clock += 1000
      const updated = await store.update(created.id, { url: 'https://other.example.com/x', eventTypes: ['*'], description: null, maxInFlight: null } as unknown as Parameters<typeof store.update>[1])
      expect(updated).toMatchObject({ url: 'https://other.example.com/x', eventTypes: ['*'], createdAt: created.createdAt, updatedAt: '2025-03-01T12:00:01.000Z' })
      expect(updated.description).toBeUndefined()
      expect(updated.maxInFlight).toBeUndefined()
      expect(updated.secrets).toEqual(created.secrets)
      expect(store.get(created.id)).toEqual(updated)
      expect((await rejection(store.update(created.id, { url: 'https://10.1.2.3/' }))).code).toBe('WHD_ERR_SSRF_BLOCKED')
      expect((await rejection(store.update(created.id, { tenantId: 'tenant-b' } as never))).field).toBe('tenantId')
      expect(store.get(created.id)).toEqual(updated)
    })

    it('writes nothing when a change changes nothing', async () => {
      const { subscription } = await store.create(input())
      changes = []
      clock += 1000
      expect(await store.update(subscription.id, { eventTypes: ['transaction.*'] })).toEqual(subscription)
      expect(await store.setPaused(subscription.id, false)).toEqual(subscription)
      expect(await store.setEnabled(subscription.id, true)).toEqual(subscription)
      expect(changes).toEqual([])
    })

    it('pauses and resumes, enables and disables with a reason', async () => {
      const { subscription } = await store.create(input())
      expect((await store.setPaused(subscription.id, true)).paused).toBe(true)
      expect((await store.setPaused(subscription.id, false)).paused).toBe(false)
      const disabled = await store.setEnabled(subscription.id, false, 'customer asked')
      expect(disabled).toMatchObject({ enabled: false, disabledReason: 'customer asked' })
      const enabled = await store.setEnabled(subscription.id, true)
      expect(enabled.enabled).toBe(true)
      expect(enabled.disabledReason).toBeUndefined()
      expect((await store.setEnabled(subscription.id, false)).disabledReason).toBe('disabled by an operator')
      expect(changes.map(([, s]) => [s?.paused, s?.enabled])).toEqual([[false, true], [true, true], [false, true], [false, false], [false, true], [false, false]])
    })

    it('disable() (410 Gone) changes the view at once and tells listeners once', async () => {
      const { subscription } = await store.create(input())
      changes = []
      store.disable(subscription.id, '410 Gone from https://hooks.example.com/in')
      expect(store.get(subscription.id)).toMatchObject({ enabled: false, disabledReason: '410 Gone from https://hooks.example.com/in' })
      expect(store.forTenant('tenant-a')[0]?.enabled).toBe(false)
      store.disable(subscription.id, 'again')
      store.disable('no-such-id', 'ignored')
      await new Promise((resolve) => setImmediate(resolve))
      expect(changes).toHaveLength(1)
      expect(changes[0]?.[1]?.enabled).toBe(false)
      expect(store.get(subscription.id)?.disabledReason).toBe('410 Gone from https://hooks.example.com/in')
      expect(errors).toEqual([])
    })

    it('deletes; the id is then unknown', async () => {
      const { subscription } = await store.create(input())
      const other = (await store.create(input())).subscription
      changes = []
      await store.delete(subscription.id)
      expect(store.get(subscription.id)).toBeUndefined()
      expect(store.forTenant('tenant-a')).toEqual([other])
      expect(store.all()).toEqual([other])
      expect(changes).toEqual([[subscription.id, undefined]])
      expect(await rejection(store.delete(subscription.id))).toBeInstanceOf(SubscriptionNotFoundError)
    })

    it.each([
      ['update', (s: MemorySubscriptionStore) => s.update('nope', { description: 'x' })],
      ['rotateSecret', (s: MemorySubscriptionStore) => s.rotateSecret('nope', 60)],
      ['setPaused', (s: MemorySubscriptionStore) => s.setPaused('nope', true)],
      ['setEnabled', (s: MemorySubscriptionStore) => s.setEnabled('nope', false)],
      ['revealSecrets', (s: MemorySubscriptionStore) => s.revealSecrets('nope')]
    ])('%s of an unknown id fails with WHD_ERR_NOT_FOUND', async (_name, call) => {
      const err = await rejection(async () => await call(store))
      expect(err.code).toBe('WHD_ERR_NOT_FOUND')
      expect((err as unknown as { id: string }).id).toBe('nope')
    })
  })

  describe('secret rotation', () => {
    it('signs with new and old during the grace period, then only with the new one', async () => {
      const { subscription, secret: first } = await store.create(input())
      const tenantView = store.forTenant('tenant-a')
      expect(tenantView[0]?.secrets).toEqual([first])

      clock += 10_000
      const { subscription: rotated, secret: second } = await store.rotateSecret(subscription.id, 3600)
      expect(second).not.toBe(first)
      expect(rotated.secrets).toEqual([second, first])
      expect(store.get(subscription.id)?.secrets).toEqual([second, first])
      expect(store.forTenant('tenant-a')[0]?.secrets).toEqual([second, first])
      expect(store.revealSecrets(subscription.id)).toEqual([second, first])

      clock += 3600_000 - 1
      expect(store.get(subscription.id)?.secrets).toEqual([second, first])
      expect(store.forTenant('tenant-a')[0]?.secrets).toEqual([second, first])

      // Expiry is judged at read time: no write, no event needed.
      clock += 1
      expect(store.get(subscription.id)?.secrets).toEqual([second])
      expect(store.forTenant('tenant-a')[0]?.secrets).toEqual([second])
      expect(store.all()[0]?.secrets).toEqual([second])
      expect(store.list({ limit: 10 }).items[0]?.secrets).toEqual([second])
      expect(store.revealSecrets(subscription.id)).toEqual([second])
    })

    it('with no grace period the old secret stops at once', async () => {
      const { subscription } = await store.create(input())
      const { secret } = await store.rotateSecret(subscription.id, 0)
      expect(store.get(subscription.id)?.secrets).toEqual([secret])
    })

    it('rotating again during a grace period keeps each old secret until its own end', async () => {
      const { subscription, secret: a } = await store.create(input())
      const { secret: b } = await store.rotateSecret(subscription.id, 600)
      clock += 60_000
      const { secret: c } = await store.rotateSecret(subscription.id, 3600)
      expect(store.get(subscription.id)?.secrets).toEqual([c, b, a])
      // a's grace ends 600 s after the start; b's 3600 s after the second rotation (t = 60 s).
      clock += 540_000
      expect(store.get(subscription.id)?.secrets).toEqual([c, b])
      clock += 3_059_999
      expect(store.get(subscription.id)?.secrets).toEqual([c, b])
      clock += 1
      expect(store.get(subscription.id)?.secrets).toEqual([c])
      // A later write drops the expired secrets for good.
      await store.update(subscription.id, { description: 'x' })
      expect(store.revealSecrets(subscription.id)).toEqual([c])
    })

    it.each([[-1], [1.5], [31 * 24 * 3600]])('refuses a grace period of %s seconds', async (grace) => {
      const { subscription } = await store.create(input())
      expect((await rejection(store.rotateSecret(subscription.id, grace))).field).toBe('graceSeconds')
    })
  })

  describe('list', () => {
    const seed = async (): Promise<Subscription[]> => {
      const made: Subscription[] = []
      for (const [tenantId, eventTypes, createdOffset] of [
        ['tenant-a', ['transaction.*'], 3],
        ['tenant-b', ['*'], 1],
        ['tenant-a', ['account.opened'], 2],
        ['tenant-a', ['transaction.posted'], 2],
        ['tenant-a', ['fraud_alert.*'], 5]
      ] as const) {
        clock = START + createdOffset * 1000
        made.push((await store.create(input({ tenantId, eventTypes: [...eventTypes] }))).subscription)
      }
      return made
    }

    it('orders by creation time, then id', async () => {
      const [s1, s2, s3, s4, s5] = await seed()
      expect(store.list({ limit: 200 }).items.map((s) => s.id)).toEqual([s2, s3, s4, s1, s5].map((s) => s?.id))
    })

    it('filters by tenant, event type and state', async () => {
      const [s1, s2, s3, s4, s5] = await seed()
      const ids = (query: Parameters<typeof store.list>[0]): Array<string | undefined> => store.list(query).items.map((s) => s.id)
      expect(ids({ tenantId: 'tenant-a', limit: 200 })).toEqual([s3, s4, s1, s5].map((s) => s?.id))
      expect(ids({ tenantId: 'tenant-c', limit: 200 })).toEqual([])
      expect(ids({ eventType: 'transaction.posted', limit: 200 })).toEqual([s2, s4, s1].map((s) => s?.id))
      expect(ids({ tenantId: 'tenant-a', eventType: 'transaction.posted', limit: 200 })).toEqual([s4, s1].map((s) => s?.id))
      await store.setPaused(s1?.id ?? '', true)
      await store.setEnabled(s4?.id ?? '', false)
      expect(ids({ state: 'paused', limit: 200 })).toEqual([s1?.id])
      expect(ids({ state: 'disabled', limit: 200 })).toEqual([s4?.id])
      expect(ids({ state: 'enabled', limit: 200 })).toEqual([s2, s3, s5].map((s) => s?.id))
    })

    it('pages with a cursor that survives inserts and deletes', async () => {
      const [s1, s2, s3, s4, s5] = await seed()
      const first = store.list({ limit: 2 })
      expect(first.items.map((s) => s.id)).toEqual([s2?.id, s3?.id])
      expect(first.nextCursor).toBeDefined()
      // Changes between pages: delete an item already seen, add one at the end.
      await store.delete(s2?.id ?? '')
      clock = START + 9000
      const late = (await store.create(input())).subscription
      const second = store.list({ limit: 2, cursor: first.nextCursor })
      expect(second.items.map((s) => s.id)).toEqual([s4?.id, s1?.id])
      const third = store.list({ limit: 2, cursor: second.nextCursor })
      expect(third.items.map((s) => s.id)).toEqual([s5?.id, late.id])
      expect(third.nextCursor).toBeUndefined()
    })

    it('gives no cursor when the page holds the last item', async () => {
      await seed()
      expect(store.list({ limit: 5 }).nextCursor).toBeUndefined()
      expect(store.list({ limit: 4 }).nextCursor).toBeDefined()
    })

    it.each([
      [{ limit: 0 }, 'limit'],
      [{ limit: 201 }, 'limit'],
      [{ limit: 2.5 }, 'limit'],
      [{ limit: 10, cursor: 'garbage' }, 'cursor'],
      [{ limit: 10, state: 'sleeping' }, 'state']
    ])('rejects %o on field %s', async (query, field) => {
      const err = await rejection(() => store.list(query as never))
      expect(err.code).toBe('WHD_ERR_VALIDATION')
      expect(err.field).toBe(field)
    })
  })

  describe('upsert (import)', () => {
    const fromFile: Subscription = {
      id: 'legacy-1',
      tenantId: 'tenant-a',
      url: 'https://hooks.example.com/in',
      eventTypes: ['transaction.*'],
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_b2xkLXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5YWJj'],
      enabled: true
    }

    it('creates with the id and secrets as given, then reports unchanged, then updated', async () => {
      const created = await store.upsert(fromFile)
      expect(created.outcome).toBe('created')
      expect(created.subscription).toMatchObject({ id: 'legacy-1', secrets: fromFile.secrets, paused: false })
      clock += 5000
      expect((await store.upsert(fromFile)).outcome).toBe('unchanged')
      expect(store.get('legacy-1')?.updatedAt).toBe('2025-03-01T12:00:00.000Z')
      const updated = await store.upsert({ ...fromFile, eventTypes: ['*'] })
      expect(updated.outcome).toBe('updated')
      expect(updated.subscription).toMatchObject({ eventTypes: ['*'], createdAt: '2025-03-01T12:00:00.000Z', updatedAt: '2025-03-01T12:00:05.000Z' })
      const rekeyed = await store.upsert({ ...fromFile, secrets: ['whsec_bmV3LXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5YWJj'] })
      expect(rekeyed.outcome).toBe('updated')
      expect(store.revealSecrets('legacy-1')).toEqual(['whsec_bmV3LXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5YWJj'])
    })

    it.each([
      ['a malformed secret', { secrets: ['whsec_not base64'] }, 'secrets[0]'],
      ['a secret without the prefix', { secrets: ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }, 'secrets[0]'],
      ['no secrets', { secrets: [] }, 'secrets'],
      ['an id with a slash', { id: 'a/b' }, 'id'],
      ['an id starting with an underscore', { id: '__whd.sync__' }, 'id'],
      ['a blocked URL', { url: 'https://192.168.1.1/' }, 'url']
    ])('rejects %s, never echoing a secret', async (_name, over, field) => {
      const err = await rejection(store.upsert({ ...fromFile, ...over }))
      expect(err.field).toBe(field)
      expect(err.message).not.toContain('not base64')
      expect(err.message).not.toContain('MfKQ9r8G')
    })
  })

  it('a listener that throws does not stop the others, and is reported', async () => {
    const seen: string[] = []
    store.onChange(() => { throw new Error('listener bug') })
    const unsubscribe = store.onChange((id) => seen.push(id))
    const { subscription } = await store.create(input())
    expect(seen).toEqual([subscription.id])
    expect(errors).toEqual([expect.objectContaining({ message: 'listener bug' })])
    unsubscribe()
    await store.update(subscription.id, { description: 'x' })
    expect(seen).toEqual([subscription.id])
  })
})
