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
//     "tls"?: { "clientCertPem"?: "…", "caPem"?: "…", "clientKeyPem"?: { envelope } },
//     "mac": { "kid": "k2", "value": "<base64 HMAC-SHA256>" } }
//
// Integrity: `mac` authenticates the whole record — the key and every other
// field, known or not — under a key derived from SECRETS_ENCRYPTION_KEYS
// (crypto.ts). Without it, anyone who can write to the topic could replay an
// endpoint's record with another url and tenantId and keep its still-valid
// encrypted secret (the GCM additional data binds an envelope to the id and
// field only). A whole-record MAC rather than more GCM additional data: it
// also covers the fields no secret is tied to (enabled, paused, eventTypes,
// the TLS certificate and CA) and a record's future fields, and it is checked
// before any secret is decrypted. The MAC input is the record key and the
// value without `mac`, as JSON with keys sorted at every level, so it does
// not depend on how a writer orders fields.
import { SubscriptionRecordIntegrityError, SubscriptionSourceError } from '../errors.js'
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
  /**
   * Set only on an endpoint whose latest record this instance cannot verify
   * or decrypt: why. It then has no secrets, is disabled, and its other
   * fields are the record's unverified claims (record.ts, topic-store.ts).
   */
  quarantine?: string
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
  /** Present (true) only for a record without a MAC, accepted because `acceptUnsigned` was set. */
  unsigned?: true
}

export interface DecodeOptions {
  /**
   * Accept records without a MAC (written before MACs existed), for a
   * one-off migration (SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS). @defaultValue false
   */
  acceptUnsigned?: boolean
}

/** JSON with object keys sorted at every level: the same bytes whatever order a writer used. */
function sortedJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** What a record's MAC authenticates: the key and the value without `mac`. */
function macInput (id: string, value: Record<string, unknown>): Buffer {
  const { mac: _mac, ...rest } = value
  return Buffer.from(`whd-subscription-record\n${JSON.stringify(id)}\n${sortedJson(rest)}`, 'utf8')
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
  return { key: s.id, value: Buffer.from(JSON.stringify(withMac(s.id, value, cipher)), 'utf8') }
}

/**
 * `value` with its `mac` (made with the cipher's current key) in place of any
 * it had: what a writer holding the keys stores under key `id`.
 */
export function withMac (id: string, value: Record<string, unknown>, cipher: SecretCipher): Record<string, unknown> {
  return { ...value, mac: cipher.mac(macInput(id, value)) }
}

/** The tombstone that deletes subscription `id` (compaction drops it later). */
export function encodeTombstone (id: string): SubscriptionRecord {
  return { key: id, value: null }
}

/**
 * Reads a record of the subscriptions topic. Throws a
 * {@link SubscriptionSourceError} (`WHD_ERR_SUBSCRIPTIONS`) for a malformed
 * record, naming the key and field; a {@link SubscriptionRecordIntegrityError}
 * (`WHD_ERR_RECORD_INTEGRITY`) when its MAC does not verify, or it has none
 * and `acceptUnsigned` is not set; and a `SecretKeyError`
 * (`WHD_ERR_SECRET_KEY`) when the key its MAC or a secret names is not
 * configured, or a secret does not decrypt. Nothing is decrypted before the
 * MAC has verified.
 */
export function decodeSubscriptionRecord (
  key: Buffer | string | null | undefined,
  value: Buffer | string | null | undefined,
  cipher: SecretCipher,
  options: DecodeOptions = {}
): DecodedSubscriptionRecord {
  const { id, record: r } = parseRecord(key, value)
  if (r === undefined) return { id, subscription: undefined }
  if (r.mac === undefined) {
    if (options.acceptUnsigned !== true) {
      throw new SubscriptionRecordIntegrityError(`subscriptions record "${id}" has no MAC (written before records were authenticated); set SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS=true once to migrate it`, 'unsigned')
    }
  } else if (!cipher.verifyMac(macInput(id, r as unknown as Record<string, unknown>), r.mac)) {
    throw new SubscriptionRecordIntegrityError(`subscriptions record "${id}": MAC (key "${r.mac.kid}") does not verify: the record was changed or written without the keys; it is not applied`, 'mac-mismatch')
  }
  const decoded: DecodedSubscriptionRecord = { id, subscription: storedFrom(id, r, cipher) }
  if (r.mac === undefined) decoded.unsigned = true
  return decoded
}

/**
 * The state a record claims, without verifying or decrypting anything: for
 * the quarantine of a record that cannot be verified or decrypted
 * (topic-store.ts). Undefined for a tombstone or a malformed record.
 */
export function quarantinedState (key: Buffer | string | null | undefined, value: Buffer | string | null | undefined, reason: string): StoredSubscription | undefined {
  let r: SubscriptionRecordValue | undefined
  let id: string
  try {
    ({ id, record: r } = parseRecord(key, value))
  } catch {
    return undefined
  }
  if (r === undefined) return undefined
  const s: StoredSubscription = {
    id,
    tenantId: r.tenantId,
    revision: r.revision ?? 1,
    url: r.url,
    eventTypes: [...r.eventTypes],
    enabled: false,
    disabledReason: `quarantined: ${reason}`,
    paused: false,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    secrets: [],
    quarantine: reason
  }
  if (r.description !== undefined) s.description = r.description
  return s
}

/** The id and the schema-checked value (undefined: a tombstone). */
function parseRecord (key: Buffer | string | null | undefined, value: Buffer | string | null | undefined): { id: string, record: SubscriptionRecordValue | undefined } {
  if (key === null || key === undefined || key.length === 0) throw new SubscriptionSourceError('subscriptions record without a key (the key must be the subscription id)')
  const id = typeof key === 'string' ? key : key.toString('utf8')
  if (value === null || value === undefined) return { id, record: undefined }

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
  return { id, record: r }
}

function storedFrom (id: string, r: SubscriptionRecordValue, cipher: SecretCipher): StoredSubscription {
  const fail = (problem: string): never => { throw new SubscriptionSourceError(`subscriptions record "${id}": ${problem}`) }
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
  return subscription
}
