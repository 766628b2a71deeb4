// Standard Webhooks v1 signatures (symmetric, HMAC-SHA256).
// Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'

const SECRET_PREFIX = 'whsec_'
const SIGNATURE_VERSION = 'v1'
// Standard base64 with padding, as the Standard Webhooks libraries decode it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Key sizes DESIGN §5 allows for newly generated secrets, in bytes. */
export const MIN_SECRET_BYTES = 24
export const MAX_SECRET_BYTES = 64
/** How far `webhook-timestamp` may be from the verifier's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60

export interface SignInput {
  /** The `webhook-id`: the event id, the same on every attempt. */
  id: string
  /** Unix seconds of this attempt (the `webhook-timestamp` header). */
  timestampSeconds: number
  /** The exact bytes that go on the wire. */
  body: string | Uint8Array
  /** One or more `whsec_…` secrets; more than one during rotation. */
  secrets: readonly string[]
}

export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/**
 * Decodes a `whsec_`-prefixed (or bare) base64 secret into its key bytes.
 * Throws a `TypeError` for an empty or malformed secret; the message never
 * contains the secret.
 */
export function decodeSecret (secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new TypeError('webhook secret must be "whsec_" followed by non-empty standard base64')
  }
  return Buffer.from(encoded, 'base64')
}

/** A fresh random secret, `whsec_` + base64 of `bytes` random bytes (24–64). */
export function generateSecret (bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new RangeError(`secret size must be an integer from ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, got ${bytes}`)
  }
  return SECRET_PREFIX + randomBytes(bytes).toString('base64')
}

function assertTimestamp (timestampSeconds: number): void {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`webhook timestamp must be a non-negative integer of Unix seconds, got ${timestampSeconds}`)
  }
}

// createHmac with a raw Buffer key re-validates the key on every call
// (~15 µs on Node 24); a KeyObject made once per secret costs ~3 µs. Bounded
// so rotated-away secrets do not pile up.
const keyCache = new Map<string, KeyObject>()
const KEY_CACHE_LIMIT = 10_000

function signingKey (secret: string): KeyObject {
  let key = keyCache.get(secret)
  if (key === undefined) {
    key = createSecretKey(decodeSecret(secret))
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear()
    keyCache.set(secret, key)
  }
  return key
}

function hmac (key: KeyObject | Buffer, id: string, timestampSeconds: number, body: string | Uint8Array): Buffer {
  // The signed content is "<id>.<timestamp>.<body>", the body byte for byte.
  const prefix = `${id}.${timestampSeconds}.`
  // A string body goes in with its prefix: one call into OpenSSL, not two.
  if (typeof body === 'string') return createHmac('sha256', key).update(prefix + body).digest()
  return createHmac('sha256', key).update(prefix).update(body).digest()
}

/**
 * The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>` per secret,
 * space-separated, in the order of `secrets`.
 */
export function signWebhook ({ id, timestampSeconds, body, secrets }: SignInput): string {
  if (secrets.length === 0) throw new TypeError('at least one webhook secret is required to sign')
  assertTimestamp(timestampSeconds)
  return secrets
    .map((secret) => `${SIGNATURE_VERSION},${hmac(signingKey(secret), id, timestampSeconds, body).toString('base64')}`)
    .join(' ')
}

/** The three Standard Webhooks headers, lower-case as HTTP/2 and undici expect. */
export function webhookHeaders ({ id, timestampSeconds, signature }: { id: string, timestampSeconds: number, signature: string }): WebhookHeaders {
  assertTimestamp(timestampSeconds)
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature
  }
}

export interface VerifyInput {
  /** The raw request body, exactly as received. */
  body: string | Uint8Array
  /** Request headers; names are matched case-insensitively. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** Secrets the receiver accepts; one match is enough. */
  secrets: readonly string[]
  /** The receiver's clock, Unix seconds. @defaultValue now */
  nowSeconds?: number
  /** @defaultValue 300 */
  toleranceSeconds?: number
}

export type VerifyResult =
  | { ok: true, id: string, timestampSeconds: number }
  | { ok: false, reason: 'missing-headers' | 'invalid-timestamp' | 'timestamp-too-old' | 'timestamp-too-new' | 'no-matching-signature' }

function header (headers: VerifyInput['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue
    return typeof value === 'string' ? value : value?.join(', ')
  }
  return undefined
}

/**
 * Verifies a Standard Webhooks request the way the official libraries do:
 * timestamp within tolerance, then any `v1` signature in the header matching
 * any of `secrets`, compared in constant time. Never throws for bad input
 * from the sender; throws only for a malformed secret of the receiver's own.
 */
export function verifyWebhook ({ body, headers, secrets, nowSeconds, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS }: VerifyInput): VerifyResult {
  const keys = secrets.map(decodeSecret)
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signature = header(headers, 'webhook-signature')
  if (id === undefined || id === '' || timestamp === undefined || signature === undefined || signature === '') {
    return { ok: false, reason: 'missing-headers' }
  }
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'invalid-timestamp' }
  const timestampSeconds = Number(timestamp)
  const now = nowSeconds ?? Math.floor(Date.now() / 1000)
  if (now - timestampSeconds > toleranceSeconds) return { ok: false, reason: 'timestamp-too-old' }
  if (timestampSeconds - now > toleranceSeconds) return { ok: false, reason: 'timestamp-too-new' }

  // Compare the base64 text, as the official libraries do: decoding first
  // would accept several spellings of one digest.
  const expected = keys.map((key) => Buffer.from(hmac(key, id, timestampSeconds, body).toString('base64')))
  for (const candidate of signature.split(' ')) {
    const comma = candidate.indexOf(',')
    if (comma < 0 || candidate.slice(0, comma) !== SIGNATURE_VERSION) continue
    const given = Buffer.from(candidate.slice(comma + 1))
    for (const digest of expected) {
      // timingSafeEqual needs equal lengths; the length of a digest is public.
      if (given.length === digest.length && timingSafeEqual(given, digest)) {
        return { ok: true, id, timestampSeconds }
      }
    }
  }
  return { ok: false, reason: 'no-matching-signature' }
}
