// The record format of the compacted subscriptions topic (DESIGN §6):
// key = subscription id (UTF-8), value = JSON (below), null value = tombstone
// (the subscription was deleted). Signing secrets and the mTLS client key are
// encrypted ({@link SecretCipher}); no plaintext secret is ever in a record.
//
// The value's schema is SubscriptionRecordValue (schema.ts): the same limits
// and tenant-id rule as the admin API, so a record the API could not have
// written (a tenant id it cannot address, 500 event types) is refused with
// the field and the reason.
//
//   { "version": 1, "id": "…", "tenantId": "…", "revision": 3, "url": "https://…",
//     "eventTypes": ["transaction.*"], "enabled": true, "paused": false,
//     "disabledReason"?: "…", "maxInFlight"?: 8, "rateLimitPerSecond"?: 50,
//     "description"?: "…", "createdAt": "<ISO-8601>", "updatedAt": "<ISO-8601>",
//     "secrets": [{ "encrypted": { "kid", "iv", "tag", "data" },
//                   "createdAt": "<ISO-8601>", "expiresAt"?: "<ISO-8601>" }],
//     "tls"?: { "clientCertPem"?: "…", "caPem"?: "…", "clientKeyPem"?: { envelope } } }
import { SubscriptionSourceError } from '../errors.js'
import type { SecretCipher } from './crypto.js'
import { firstProblem, SUBSCRIPTION_RECORD_VERSION, SubscriptionRecordValue } from './schema.js'

export { SUBSCRIPTION_RECORD_VERSION }

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
  /** 1 when created, one more with every change written (the admin API's ETag). */
  revision: number
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
    revision: s.revision,
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
  const version = (raw as { version?: unknown }).version
  if (version !== SUBSCRIPTION_RECORD_VERSION) {
    return fail(`version ${JSON.stringify(version)} is not supported (this dispatcher reads version ${SUBSCRIPTION_RECORD_VERSION}; was it written by a newer one?)`)
  }
  const problem = firstProblem(SubscriptionRecordValue, raw)
  if (problem !== undefined) fail(`${problem.field === '' ? 'value' : problem.field} ${problem.reason}`)
  const r = raw as SubscriptionRecordValue
  if (r.id !== id) fail(`id "${r.id}" differs from the record key`)
  const time = (field: string, v: string): string => (Number.isNaN(Date.parse(v)) ? fail(`${field} must be an ISO-8601 time`) : v)
  const secrets = r.secrets.map((entry, i): StoredSecret => {
    const where = `secrets[${i}]`
    const secret: StoredSecret = {
      secret: cipher.decrypt(entry.encrypted, secretContext(id)),
      createdAt: time(`${where}.createdAt`, entry.createdAt)
    }
    if (entry.expiresAt !== undefined) secret.expiresAt = time(`${where}.expiresAt`, entry.expiresAt)
    return secret
  })

  const subscription: StoredSubscription = {
    id,
    tenantId: r.tenantId,
    // Records written before revisions existed are revision 1 to every instance.
    revision: r.revision ?? 1,
    url: r.url,
    eventTypes: [...r.eventTypes],
    enabled: r.enabled,
    paused: r.paused ?? false,
    createdAt: time('createdAt', r.createdAt),
    updatedAt: time('updatedAt', r.updatedAt),
    secrets
  }
  if (r.disabledReason !== undefined) subscription.disabledReason = r.disabledReason
  if (r.maxInFlight !== undefined) subscription.maxInFlight = r.maxInFlight
  if (r.rateLimitPerSecond !== undefined) subscription.rateLimitPerSecond = r.rateLimitPerSecond
  if (r.description !== undefined) subscription.description = r.description
  if (r.tls !== undefined) {
    const tls: NonNullable<StoredSubscription['tls']> = {}
    if (r.tls.clientCertPem !== undefined) tls.clientCertPem = r.tls.clientCertPem
    if (r.tls.caPem !== undefined) tls.caPem = r.tls.caPem
    if (r.tls.clientKeyPem !== undefined) tls.clientKeyPem = cipher.decrypt(r.tls.clientKeyPem, tlsKeyContext(id))
    subscription.tls = tls
  }
  return { id, subscription }
}
