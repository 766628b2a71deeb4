import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSecretCipher } from '../../../../services/dispatcher/src/subscriptions/crypto.js'
import {
  decodeSubscriptionRecord,
  encodeSubscriptionRecord,
  encodeTombstone,
  type StoredSubscription
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
const decodeValue = (id: string, v: unknown): StoredSubscription | undefined =>
  decodeSubscriptionRecord(Buffer.from(id), Buffer.from(JSON.stringify(v)), cipher).subscription

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
