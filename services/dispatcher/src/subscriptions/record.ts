// The record format of the compacted subscriptions topic (DESIGN §6):
// key = subscription id (UTF-8), value = JSON (below), null value = tombstone
// (the subscription was deleted). Signing secrets and the mTLS client key are
// encrypted ({@link SecretCipher}); no plaintext secret is ever in a record.
//
//   { "version": 1, "id": "…", "tenantId": "…", "url": "https://…",
//     "eventTypes": ["transaction.*"], "enabled": true, "paused": false,
//     "disabledReason"?: "…", "maxInFlight"?: 8, "rateLimitPerSecond"?: 50,
//     "description"?: "…", "createdAt": "<ISO-8601>", "updatedAt": "<ISO-8601>",
//     "secrets": [{ "encrypted": { "kid", "iv", "tag", "data" },
//                   "createdAt": "<ISO-8601>", "expiresAt"?: "<ISO-8601>" }],
//     "tls"?: { "clientCertPem"?: "…", "caPem"?: "…", "clientKeyPem"?: { envelope } } }
import { SubscriptionSourceError } from '../errors.js'
import type { SecretCipher, SecretEnvelope } from './crypto.js'

export const SUBSCRIPTION_RECORD_VERSION = 1

/** One signing secret with its life span, decrypted (in memory only). */
export interface StoredSecret {
  /** `whsec_…` */
  secret: string
  /** ISO-8601. */
  createdAt: string
  /** ISO-8601; absent while the secret is the newest. After it, the secret no longer signs. */
  expiresAt?: string
}

/**
 * Everything the store keeps about one subscription: the
 * {@link Subscription} fields, with every secret and its life span rather
 * than only the currently active ones.
 */
export interface StoredSubscription {
  id: string
  tenantId: string
  url: string
  eventTypes: string[]
  enabled: boolean
  disabledReason?: string
  paused: boolean
  maxInFlight?: number
  rateLimitPerSecond?: number
  description?: string
  createdAt: string
  updatedAt: string
  /** Newest first; the first has no `expiresAt`. */
  secrets: StoredSecret[]
  tls?: { clientCertPem?: string, clientKeyPem?: string, caPem?: string }
}

/** A record as the producer takes it. */
export interface SubscriptionRecord {
  key: string
  value: Buffer | null
}

/** What a record says: the subscription's new state, or `undefined` for a tombstone. */
export interface DecodedSubscriptionRecord {
  id: string
  subscription: StoredSubscription | undefined
}

// GCM additional data: an envelope only decrypts in the record and field it was written for.
const secretContext = (id: string): string => `whd-subscription:${id}:secret`
const tlsKeyContext = (id: string): string => `whd-subscription:${id}:tls.clientKeyPem`

/** The record that stores `subscription`, secrets encrypted with the cipher's current key. */
export function encodeSubscriptionRecord (subscription: StoredSubscription, cipher: SecretCipher): SubscriptionRecord {
  const s = subscription
  const value: Record<string, unknown> = {
    version: SUBSCRIPTION_RECORD_VERSION,
    id: s.id,
    tenantId: s.tenantId,
    url: s.url,
    eventTypes: s.eventTypes,
    enabled: s.enabled,
    paused: s.paused
  }
  if (s.disabledReason !== undefined) value.disabledReason = s.disabledReason
  if (s.maxInFlight !== undefined) value.maxInFlight = s.maxInFlight
  if (s.rateLimitPerSecond !== undefined) value.rateLimitPerSecond = s.rateLimitPerSecond
  if (s.description !== undefined) value.description = s.description
  value.createdAt = s.createdAt
  value.updatedAt = s.updatedAt
  value.secrets = s.secrets.map((secret) => ({
    encrypted: cipher.encrypt(secret.secret, secretContext(s.id)),
    createdAt: secret.createdAt,
    ...(secret.expiresAt === undefined ? {} : { expiresAt: secret.expiresAt })
  }))
  if (s.tls !== undefined) {
    const tls: Record<string, unknown> = {}
    if (s.tls.clientCertPem !== undefined) tls.clientCertPem = s.tls.clientCertPem
    if (s.tls.clientKeyPem !== undefined) tls.clientKeyPem = cipher.encrypt(s.tls.clientKeyPem, tlsKeyContext(s.id))
    if (s.tls.caPem !== undefined) tls.caPem = s.tls.caPem
    value.tls = tls
  }
  return { key: s.id, value: Buffer.from(JSON.stringify(value), 'utf8') }
}

/** The tombstone that deletes subscription `id` (compaction drops it later). */
export function encodeTombstone (id: string): SubscriptionRecord {
  return { key: id, value: null }
}

/**
 * Reads a record of the subscriptions topic. Throws a
 * {@link SubscriptionSourceError} (`WHD_ERR_SUBSCRIPTIONS`) for a malformed
 * record, naming the key and field, and a `SecretKeyError`
 * (`WHD_ERR_SECRET_KEY`) when a secret cannot be decrypted.
 */
export function decodeSubscriptionRecord (
  key: Buffer | string | null | undefined,
  value: Buffer | string | null | undefined,
  cipher: SecretCipher
): DecodedSubscriptionRecord {
  if (key === null || key === undefined || key.length === 0) throw new SubscriptionSourceError('subscriptions record without a key (the key must be the subscription id)')
  const id = typeof key === 'string' ? key : key.toString('utf8')
  if (value === null || value === undefined) return { id, subscription: undefined }

  const fail = (problem: string): never => { throw new SubscriptionSourceError(`subscriptions record "${id}": ${problem}`) }
  let raw: unknown
  try {
    raw = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'))
  } catch (err) {
    throw new SubscriptionSourceError(`subscriptions record "${id}": value is not JSON`, { cause: err })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('value must be a JSON object')
  const r = raw as Record<string, unknown>
  if (r.version !== SUBSCRIPTION_RECORD_VERSION) {
    return fail(`version ${JSON.stringify(r.version)} is not supported (this dispatcher reads version ${SUBSCRIPTION_RECORD_VERSION}; was it written by a newer one?)`)
  }
  const text = (field: string, v: unknown = r[field]): string => (typeof v === 'string' && v !== '' ? v : fail(`${field} must be a non-empty string`))
  const optionalText = (field: string): string | undefined => (r[field] === undefined ? undefined : typeof r[field] === 'string' ? r[field] : fail(`${field} must be a string`))
  const time = (field: string, v: unknown = r[field]): string => {
    const t = text(field, v)
    return Number.isNaN(Date.parse(t)) ? fail(`${field} must be an ISO-8601 time`) : t
  }
  const positive = (field: string, integer: boolean): number | undefined => {
    const v = r[field]
    if (v === undefined) return undefined
    const ok = typeof v === 'number' && Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v))
    return ok ? v : fail(`${field} must be a positive ${integer ? 'integer' : 'number'}`)
  }
  const bool = (field: string, fallback?: boolean): boolean => {
    const v = r[field] ?? fallback
    return typeof v === 'boolean' ? v : fail(`${field} must be true or false`)
  }

  if (text('id') !== id) fail(`id "${String(r.id)}" differs from the record key`)
  const eventTypes = r.eventTypes
  if (!Array.isArray(eventTypes) || eventTypes.length === 0 || !eventTypes.every((t) => typeof t === 'string' && t !== '')) {
    fail('eventTypes must be a non-empty array of strings')
  }
  const secretsRaw = r.secrets
  if (!Array.isArray(secretsRaw) || secretsRaw.length === 0) fail('secrets must be a non-empty array')
  const secrets = (secretsRaw as unknown[]).map((entry, i): StoredSecret => {
    const where = `secrets[${i}]`
    if (typeof entry !== 'object' || entry === null) return fail(`${where} must be an object`)
    const e = entry as Record<string, unknown>
    const secret: StoredSecret = {
      secret: cipher.decrypt(envelope(e.encrypted, `${where}.encrypted`, fail), secretContext(id)),
      createdAt: time(`${where}.createdAt`, e.createdAt)
    }
    if (e.expiresAt !== undefined) secret.expiresAt = time(`${where}.expiresAt`, e.expiresAt)
    return secret
  })

  const subscription: StoredSubscription = {
    id,
    tenantId: text('tenantId'),
    url: text('url'),
    eventTypes: [...(eventTypes as string[])],
    enabled: bool('enabled'),
    paused: bool('paused', false),
    createdAt: time('createdAt'),
    updatedAt: time('updatedAt'),
    secrets
  }
  const disabledReason = optionalText('disabledReason')
  if (disabledReason !== undefined) subscription.disabledReason = disabledReason
  const maxInFlight = positive('maxInFlight', true)
  if (maxInFlight !== undefined) subscription.maxInFlight = maxInFlight
  const rateLimitPerSecond = positive('rateLimitPerSecond', false)
  if (rateLimitPerSecond !== undefined) subscription.rateLimitPerSecond = rateLimitPerSecond
  const description = optionalText('description')
  if (description !== undefined) subscription.description = description
  if (r.tls !== undefined) {
    if (typeof r.tls !== 'object' || r.tls === null) fail('tls must be an object')
    const t = r.tls as Record<string, unknown>
    const tls: NonNullable<StoredSubscription['tls']> = {}
    for (const field of ['clientCertPem', 'caPem'] as const) {
      const v = t[field]
      if (v === undefined) continue
      if (typeof v !== 'string') fail(`tls.${field} must be a string`)
      tls[field] = v as string
    }
    if (t.clientKeyPem !== undefined) tls.clientKeyPem = cipher.decrypt(envelope(t.clientKeyPem, 'tls.clientKeyPem', fail), tlsKeyContext(id))
    subscription.tls = tls
  }
  return { id, subscription }
}

function envelope (value: unknown, where: string, fail: (problem: string) => never): SecretEnvelope {
  if (typeof value !== 'object' || value === null) return fail(`${where} must be an encrypted envelope { kid, iv, tag, data }`)
  const e = value as Record<string, unknown>
  for (const field of ['kid', 'iv', 'tag', 'data'] as const) {
    if (typeof e[field] !== 'string') fail(`${where}.${field} must be a string`)
  }
  return { kid: e.kid as string, iv: e.iv as string, tag: e.tag as string, data: e.data as string }
}
