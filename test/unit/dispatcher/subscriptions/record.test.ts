import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSecretCipher } from '../../../../services/dispatcher/src/subscriptions/crypto.js'
import {
  decodeSubscriptionRecord,
  encodeSubscriptionRecord,
  encodeTombstone,
  quarantinedState,
  type StoredSubscription,
  withMac
} from '../../../../services/dispatcher/src/subscriptions/record.js'

const cipher = createSecretCipher([{ id: 'k1', key: randomBytes(32) }], 'k1')
const newSecret = 'whsec_bmV3LXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5YWJj'
const oldSecret = 'whsec_b2xkLXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5YWJj'
const clientKeyPem = '-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD\n-----END PRIVATE KEY-----\n'

const full: StoredSubscription = {
  id: 'sub-1',
  tenantId: 'tenant-a',
  revision: 7,
  url: 'https://hooks.example.com/in',
  eventTypes: ['transaction.*', 'account.opened'],
  enabled: false,
  disabledReason: '410 Gone',
  paused: true,
  maxInFlight: 4,
  rateLimitPerSecond: 2.5,
  description: 'ledger sync',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-02T00:00:00.000Z',
  secrets: [
    { secret: newSecret, createdAt: '2025-01-02T00:00:00.000Z' },
    { secret: oldSecret, createdAt: '2025-01-01T00:00:00.000Z', expiresAt: '2025-01-03T00:00:00.000Z' }
  ],
  tls: { clientCertPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', clientKeyPem, caPem: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n' }
}

const minimal: StoredSubscription = {
  id: 'sub-2',
  tenantId: 'tenant-b',
  revision: 1,
  url: 'https://b.example.com/',
  eventTypes: ['*'],
  enabled: true,
  paused: false,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  secrets: [{ secret: newSecret, createdAt: '2025-01-01T00:00:00.000Z' }]
}

const value = (s: StoredSubscription): Record<string, unknown> => JSON.parse(encodeSubscriptionRecord(s, cipher).value?.toString('utf8') ?? 'null') as Record<string, unknown>
// Signed again after a test changed it, as a writer with the keys would: the checks after the MAC's are under test.
const decodeValue = (id: string, v: Record<string, unknown>): StoredSubscription | undefined =>
  decodeSubscriptionRecord(Buffer.from(id), Buffer.from(JSON.stringify(withMac(id, v, cipher))), cipher).subscription
const raw = (id: string, v: unknown): Buffer => Buffer.from(JSON.stringify(v))

describe('subscription record', () => {
  it.each([['every field', full], ['only the required fields', minimal]])('round-trips %s', (_name, subscription) => {
    const record = encodeSubscriptionRecord(subscription, cipher)
    expect(record.key).toBe(subscription.id)
    expect(decodeSubscriptionRecord(Buffer.from(record.key), record.value, cipher)).toEqual({ id: subscription.id, subscription })
  })

  it('has version 1, the id as key, and encrypted secrets and client key: no plaintext in the bytes', () => {
    const record = encodeSubscriptionRecord(full, cipher)
    const text = record.value?.toString('utf8') ?? ''
    for (const plaintext of [newSecret, oldSecret, newSecret.slice(6), oldSecret.slice(6), clientKeyPem, 'TUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD']) {
      expect(text).not.toContain(plaintext)
    }
    const v = value(full)
    expect(v.version).toBe(1)
    expect(v.id).toBe('sub-1')
    expect(v.secrets).toEqual([
      { encrypted: { kid: 'k1', iv: expect.any(String), tag: expect.any(String), data: expect.any(String) }, createdAt: '2025-01-02T00:00:00.000Z' },
      { encrypted: { kid: 'k1', iv: expect.any(String), tag: expect.any(String), data: expect.any(String) }, createdAt: '2025-01-01T00:00:00.000Z', expiresAt: '2025-01-03T00:00:00.000Z' }
    ])
    expect((v.tls as Record<string, unknown>).clientKeyPem).toEqual({ kid: 'k1', iv: expect.any(String), tag: expect.any(String), data: expect.any(String) })
    expect((v.tls as Record<string, unknown>).clientCertPem).toBe(full.tls?.clientCertPem)
  })

  it('a tombstone (null value) deletes', () => {
    expect(encodeTombstone('sub-1')).toEqual({ key: 'sub-1', value: null })
    expect(decodeSubscriptionRecord(Buffer.from('sub-1'), null, cipher)).toEqual({ id: 'sub-1', subscription: undefined })
  })

  it('an encrypted secret moved to another subscription\'s record does not decrypt', () => {
    const a = value(full)
    const b = value(minimal)
    b.secrets = a.secrets
    expect(() => decodeValue('sub-2', b)).toThrow(expect.objectContaining({ code: 'WHD_ERR_SECRET_KEY' }))
  })

  it('a record written with an unknown key id fails with WHD_ERR_SECRET_KEY', () => {
    const other = createSecretCipher([{ id: 'k9', key: randomBytes(32) }], 'k9')
    const record = encodeSubscriptionRecord(minimal, other)
    expect(() => decodeSubscriptionRecord(Buffer.from(record.key), record.value, cipher)).toThrow(expect.objectContaining({ code: 'WHD_ERR_SECRET_KEY', kid: 'k9' }))
  })

  const mutations: Array<[string, (v: Record<string, unknown>) => void, RegExp]> = [
    ['a newer version', (v) => { v.version = 2 }, /version 2 is not supported/],
    ['no version', (v) => { delete v.version }, /version undefined is not supported/],
    ['an id other than the key', (v) => { v.id = 'sub-9' }, /differs from the record key/],
    ['no tenant', (v) => { delete v.tenantId }, /tenantId is required/],
    ['no url', (v) => { v.url = '' }, /url must not be empty/],
    ['empty eventTypes', (v) => { v.eventTypes = [] }, /eventTypes must list at least 1/],
    ['enabled not boolean', (v) => { v.enabled = 'yes' }, /enabled must be true or false/],
    ['maxInFlight 0', (v) => { v.maxInFlight = 0 }, /maxInFlight must be an integer from 1 to 10000/],
    ['rateLimitPerSecond negative', (v) => { v.rateLimitPerSecond = -1 }, /rateLimitPerSecond must be a number from 0.001 to 100000/],
    ['rateLimitPerSecond below one per 1,000 s', (v) => { v.rateLimitPerSecond = 4.7e-7 }, /rateLimitPerSecond must be a number from 0.001 to 100000/],
    ['a tenant id the admin API cannot address', (v) => { v.tenantId = 'tenant a/b' }, /tenantId must be a tenant id .*the admin API and ADMIN_TOKENS address no other/],
    ['more event types than the API allows', (v) => { v.eventTypes = Array.from({ length: 51 }, (_, i) => `type.${i}`) }, /eventTypes must list at most 50/],
    ['bad createdAt', (v) => { v.createdAt = 'yesterday' }, /createdAt must be an ISO-8601 time/],
    ['no secrets', (v) => { v.secrets = [] }, /secrets must list at least 1/],
    ['a plaintext secret', (v) => { v.secrets = [{ encrypted: newSecret, createdAt: '2025-01-01T00:00:00.000Z' }] }, /secrets\[0\]\.encrypted must be an object/],
    ['an envelope field missing', (v) => { delete ((v.secrets as Array<Record<string, Record<string, unknown>>>)[0]?.encrypted ?? {}).tag }, /secrets\[0\]\.encrypted\.tag is required/]
  ]

  it.each(mutations)('rejects %s with WHD_ERR_SUBSCRIPTIONS naming the record and field', (_name, mutate, message) => {
    const v = value(minimal)
    mutate(v)
    let caught: unknown
    try {
      decodeValue('sub-2', v)
    } catch (err) {
      caught = err
    }
    expect((caught as { code?: string }).code).toBe('WHD_ERR_SUBSCRIPTIONS')
    expect((caught as Error).message).toMatch(/^subscriptions record "sub-2": /)
    expect((caught as Error).message).toMatch(message)
    expect((caught as Error).message).not.toContain(newSecret.slice(6))
  })

  it('rejects a value that is not a JSON object, and a record without a key', () => {
    expect(() => decodeSubscriptionRecord(Buffer.from('x'), Buffer.from('{not json'), cipher)).toThrow(expect.objectContaining({ code: 'WHD_ERR_SUBSCRIPTIONS' }))
    expect(() => decodeSubscriptionRecord(Buffer.from('x'), Buffer.from('[1]'), cipher)).toThrow(/must be a JSON object/)
    expect(() => decodeSubscriptionRecord(null, Buffer.from('{}'), cipher)).toThrow(/without a key/)
  })

  it('ignores fields it does not know (a later minor addition) and defaults paused to false', () => {
    const v = value(minimal)
    v.someFutureField = { x: 1 }
    delete v.paused
    expect(decodeValue('sub-2', v)).toEqual(minimal)
  })
})

describe('subscription record integrity (MAC)', () => {
  const integrityError = (fn: () => unknown): { code?: string, reason?: string, message: string } => {
    try {
      fn()
    } catch (err) {
      return err as { code?: string, reason?: string, message: string }
    }
    throw new Error('no error')
  }

  it('every record carries an HMAC made with the current key id', () => {
    expect(value(full).mac).toEqual({ kid: 'k1', value: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) })
  })

  it.each<[string, (v: Record<string, unknown>) => void]>([
    ['url and tenantId changed, the secret ciphertext kept', (v) => { v.url = 'https://attacker.example/in'; v.tenantId = 'tenant-evil' }],
    ['eventTypes widened', (v) => { v.eventTypes = ['*'] }],
    ['re-enabled', (v) => { v.enabled = true }],
    ['the CA replaced', (v) => { (v.tls as Record<string, unknown>).caPem = '-----BEGIN CERTIFICATE-----\nMIID\n-----END CERTIFICATE-----\n' }],
    ['a field added', (v) => { v.someFutureField = 1 }],
    ['the MAC replaced by garbage', (v) => { v.mac = { kid: 'k1', value: 'AAAA' } }]
  ])('a record with %s is refused with WHD_ERR_RECORD_INTEGRITY (mac-mismatch), naming no secret', (_name, tamper) => {
    const v = value(full)
    tamper(v)
    const err = integrityError(() => decodeSubscriptionRecord(Buffer.from('sub-1'), raw('sub-1', v), cipher))
    expect(err).toMatchObject({ code: 'WHD_ERR_RECORD_INTEGRITY', reason: 'mac-mismatch' })
    expect(err.message).toMatch(/^subscriptions record "sub-1": MAC \(key "k1"\) does not verify/)
    expect(err.message).not.toContain(newSecret.slice(6))
  })

  it('another endpoint\'s record replayed under this key is refused', () => {
    const v = value(full)
    v.id = 'sub-2'
    // Its MAC covers the key sub-1; the id check refuses it first.
    expect(() => decodeSubscriptionRecord(Buffer.from('sub-2'), raw('sub-2', v), cipher)).toThrow(/differs from the record key|does not verify/)
  })

  it('verifies whatever order a writer put the fields in', () => {
    const v = value(full)
    const reordered = Object.fromEntries(Object.entries(v).reverse())
    expect(decodeSubscriptionRecord(Buffer.from('sub-1'), raw('sub-1', reordered), cipher).subscription).toEqual(full)
  })

  it('key rotation: records made with k1 verify with k2,k1; new records carry k2; with only k2 a k1 record cannot be verified (WHD_ERR_SECRET_KEY)', () => {
    const k2 = { id: 'k2', key: randomBytes(32) }
    const k1 = { id: 'k1', key: Buffer.alloc(32) }
    const old = createSecretCipher([k1], 'k1')
    const rotated = createSecretCipher([k2, k1], 'k2')
    const record = encodeSubscriptionRecord(full, old)
    expect(decodeSubscriptionRecord(record.key, record.value, rotated).subscription).toEqual(full)
    const rewritten = encodeSubscriptionRecord(full, rotated)
    expect(JSON.parse(rewritten.value?.toString('utf8') ?? '{}').mac.kid).toBe('k2')
    expect(decodeSubscriptionRecord(rewritten.key, rewritten.value, createSecretCipher([k2], 'k2')).subscription).toEqual(full)
    expect(() => decodeSubscriptionRecord(record.key, record.value, createSecretCipher([k2], 'k2'))).toThrow(expect.objectContaining({ code: 'WHD_ERR_SECRET_KEY', kid: 'k1' }))
  })

  it('the MAC key is not the AES key: a MAC made with the raw key does not verify', () => {
    const key = randomBytes(32)
    const c = createSecretCipher([{ id: 'k1', key }], 'k1')
    const v = JSON.parse(encodeSubscriptionRecord(minimal, c).value?.toString('utf8') ?? '{}') as Record<string, unknown>
    const forged = withMac('sub-2', { ...v, url: 'https://attacker.example/' }, { ...c, mac: (data: Buffer) => ({ kid: 'k1', value: createHmacWith(key, data) }) })
    expect(() => decodeSubscriptionRecord(Buffer.from('sub-2'), raw('sub-2', forged), c)).toThrow(expect.objectContaining({ code: 'WHD_ERR_RECORD_INTEGRITY' }))
  })

  it('a record without a MAC (the previous version\'s) is refused as unsigned, unless acceptUnsigned is set', () => {
    const v = value(minimal)
    delete v.mac
    const err = integrityError(() => decodeSubscriptionRecord(Buffer.from('sub-2'), raw('sub-2', v), cipher))
    expect(err).toMatchObject({ code: 'WHD_ERR_RECORD_INTEGRITY', reason: 'unsigned' })
    expect(err.message).toContain('SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS')
    expect(decodeSubscriptionRecord(Buffer.from('sub-2'), raw('sub-2', v), cipher, { acceptUnsigned: true })).toEqual({ id: 'sub-2', subscription: minimal, unsigned: true })
    // A signed record is never read as unsigned, and a bad MAC is not excused by acceptUnsigned.
    expect(decodeSubscriptionRecord(Buffer.from('sub-2'), raw('sub-2', value(minimal)), cipher, { acceptUnsigned: true }).unsigned).toBeUndefined()
    expect(() => decodeSubscriptionRecord(Buffer.from('sub-2'), raw('sub-2', { ...value(minimal), url: 'https://x.example/' }), cipher, { acceptUnsigned: true })).toThrow(/does not verify/)
  })

  it('quarantinedState: the claims of a record, disabled, without secrets or TLS material', () => {
    const other = createSecretCipher([{ id: 'k9', key: randomBytes(32) }], 'k9')
    const record = encodeSubscriptionRecord(full, other)
    expect(quarantinedState(record.key, record.value, 'key "k9"')).toEqual({
      id: 'sub-1',
      tenantId: 'tenant-a',
      revision: 7,
      url: full.url,
      eventTypes: full.eventTypes,
      enabled: false,
      disabledReason: 'quarantined: key "k9"',
      paused: false,
      description: 'ledger sync',
      createdAt: full.createdAt,
      updatedAt: full.updatedAt,
      secrets: [],
      quarantine: 'key "k9"'
    })
    expect(quarantinedState('sub-1', null, 'x')).toBeUndefined()
    expect(quarantinedState('sub-1', '{"version":1', 'x')).toBeUndefined()
  })
})

function createHmacWith (key: Buffer, data: Buffer): string {
  return createHmac('sha256', key).update(data).digest('base64')
}
