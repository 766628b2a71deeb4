// Encryption at rest of signing secrets and mTLS keys (DESIGN §6): AES-256-GCM
// with a key id in every envelope, so keys can be rotated — new envelopes use
// the current key, old ones still decrypt with the key they name.
//
// The same keys authenticate whole subscription records (record.ts): an
// HMAC-SHA256 key is derived from each AES key with HKDF-SHA256 under its own
// info label, so the two uses never share key material, and a record's MAC
// names the key id it was made with, so rotation works as for envelopes.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'
import { ConfigError, SecretKeyError } from '../errors.js'

/** An encrypted value as stored on the subscriptions topic; every field but `kid` is base64. */
export interface SecretEnvelope {
  /** Id of the key that encrypted it, e.g. `k2`. */
  kid: string
  /** 12-byte random GCM nonce. */
  iv: string
  /** 16-byte GCM authentication tag. */
  tag: string
  /** The ciphertext. */
  data: string
}

/** A record's MAC as stored on the subscriptions topic (record.ts). */
export interface RecordMac {
  /** Id of the key whose derived MAC key made it. */
  kid: string
  /** HMAC-SHA256, base64. */
  value: string
}

export interface SecretKey {
  /** 1–64 characters of `A-Z a-z 0-9 . _ -`. */
  id: string
  /** 32 bytes (AES-256). */
  key: Buffer
}

export interface SecretCipher {
  /** The key new envelopes are encrypted with. */
  readonly currentKeyId: string
  /**
   * Encrypts with the current key and a fresh random IV. `context` is bound
   * to the ciphertext as GCM additional data (e.g. the subscription id and
   * field), so an envelope copied to another record does not decrypt there.
   */
  encrypt (plaintext: string, context?: string): SecretEnvelope
  /** Decrypts with the key the envelope names; throws a {@link SecretKeyError}. */
  decrypt (envelope: SecretEnvelope, context?: string): string
  /** HMAC-SHA256 of `data` under the MAC key derived from the current key. */
  mac (data: Buffer): RecordMac
  /**
   * Whether `mac` authenticates `data`, under the MAC key derived from the
   * key it names; throws a {@link SecretKeyError} when that key is not
   * configured (the record cannot be verified, which is not the same as
   * failing verification).
   */
  verifyMac (data: Buffer, mac: RecordMac): boolean
}

const ALGORITHM = 'aes-256-gcm'
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/
const MAC_BYTES = 32
// HKDF info: the MAC keys are independent of the AES keys they come from.
const MAC_KEY_INFO = 'whd-subscription-record-mac/v1'
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The default environment variable for {@link secretCipherFromEnv}. */
export const SECRETS_ENCRYPTION_KEYS = 'SECRETS_ENCRYPTION_KEYS'

/**
 * A cipher over `keys`; `currentId` names the one new envelopes use. Throws a
 * {@link SecretKeyError} for a malformed id, a duplicate id, a key that is not
 * 32 bytes, or a `currentId` that is not among the keys.
 */
export function createSecretCipher (keys: readonly SecretKey[], currentId: string): SecretCipher {
  const byId = new Map<string, KeyObject>()
  const macKeys = new Map<string, Buffer>()
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) throw new SecretKeyError(`key id "${id}" must be 1–64 characters of A-Z a-z 0-9 . _ -`, id)
    if (byId.has(id)) throw new SecretKeyError(`key id "${id}" appears twice`, id)
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new SecretKeyError(`key "${id}" must be ${KEY_BYTES} bytes for AES-256-GCM, got ${Buffer.isBuffer(key) ? key.length : typeof key}`, id)
    }
    byId.set(id, createSecretKey(Buffer.from(key)))
    macKeys.set(id, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), MAC_KEY_INFO, MAC_BYTES)))
  }
  const current = byId.get(currentId)
  const currentMacKey = macKeys.get(currentId)
  if (current === undefined || currentMacKey === undefined) throw new SecretKeyError(`the current key id "${currentId}" is not among the keys`, currentId)
  const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest()

  return {
    currentKeyId: currentId,
    encrypt (plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv(ALGORITHM, current, iv, { authTagLength: TAG_BYTES })
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'))
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return { kid: currentId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') }
    },
    decrypt (envelope, context) {
      const { kid } = envelope
      const key = byId.get(kid)
      if (key === undefined) {
        throw new SecretKeyError(`no key "${kid}" to decrypt a secret; add it to ${SECRETS_ENCRYPTION_KEYS} (known: ${[...byId.keys()].join(', ')})`, kid)
      }
      const iv = base64Field(envelope.iv, 'iv', kid)
      const tag = base64Field(envelope.tag, 'tag', kid)
      const data = base64Field(envelope.data, 'data', kid)
      if (iv.length !== IV_BYTES) throw new SecretKeyError(`encrypted secret (key "${kid}"): iv must be ${IV_BYTES} bytes, got ${iv.length}`, kid)
      if (tag.length !== TAG_BYTES) throw new SecretKeyError(`encrypted secret (key "${kid}"): tag must be ${TAG_BYTES} bytes, got ${tag.length}`, kid)
      try {
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
        if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8')
      } catch (err) {
        throw new SecretKeyError(`encrypted secret (key "${kid}") failed authentication: tampered, or encrypted with a different key of that id`, kid, { cause: err })
      }
    },
    mac (data) {
      return { kid: currentId, value: hmac(currentMacKey, data).toString('base64') }
    },
    verifyMac (data, mac) {
      const key = macKeys.get(mac.kid)
      if (key === undefined) {
        throw new SecretKeyError(`no key "${mac.kid}" to verify a subscription record; add it to ${SECRETS_ENCRYPTION_KEYS} (known: ${[...macKeys.keys()].join(', ')})`, mac.kid)
      }
      if (typeof mac.value !== 'string' || !BASE64.test(mac.value)) return false
      const given = Buffer.from(mac.value, 'base64')
      return given.length === MAC_BYTES && timingSafeEqual(given, hmac(key, data))
    }
  }
}

function base64Field (value: unknown, field: string, kid: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new SecretKeyError(`encrypted secret (key "${kid}"): ${field} must be standard base64`, kid)
  return Buffer.from(value, 'base64')
}

/**
 * Parses `id:<base64 of 32 bytes>` entries, comma-separated; the first is the
 * current key, the rest only decrypt (`k2:…,k1:…` after rotating from k1 to
 * k2). Throws a {@link ConfigError} naming `variable`; key material is never
 * echoed.
 */
export function parseSecretKeys (raw: string | undefined, variable = SECRETS_ENCRYPTION_KEYS): { keys: SecretKey[], currentId: string } {
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError(variable, 'is required: comma-separated id:base64 AES-256 keys, current first (e.g. generate one with `openssl rand -base64 32`)')
  }
  const keys: SecretKey[] = []
  for (const [index, entry] of raw.split(',').map((e) => e.trim()).entries()) {
    const colon = entry.indexOf(':')
    if (colon <= 0) throw new ConfigError(variable, `entry ${index + 1} must be id:base64key`)
    const id = entry.slice(0, colon).trim()
    const encoded = entry.slice(colon + 1).trim()
    if (!KEY_ID.test(id)) throw new ConfigError(variable, `entry ${index + 1}: key id must be 1–64 characters of A-Z a-z 0-9 . _ -`)
    if (keys.some((k) => k.id === id)) throw new ConfigError(variable, `key id "${id}" appears twice`)
    if (!BASE64.test(encoded)) throw new ConfigError(variable, `key "${id}" must be standard base64`)
    const key = Buffer.from(encoded, 'base64')
    if (key.length !== KEY_BYTES) throw new ConfigError(variable, `key "${id}" must decode to ${KEY_BYTES} bytes, got ${key.length}`)
    keys.push({ id, key })
  }
  const first = keys[0]
  if (first === undefined) throw new ConfigError(variable, 'must list at least one id:base64key')
  return { keys, currentId: first.id }
}

/** The cipher configured by `env[variable]` ({@link parseSecretKeys}). */
export function secretCipherFromEnv (env: Record<string, string | undefined> = process.env, variable = SECRETS_ENCRYPTION_KEYS): SecretCipher {
  const { keys, currentId } = parseSecretKeys(env[variable], variable)
  return createSecretCipher(keys, currentId)
}
