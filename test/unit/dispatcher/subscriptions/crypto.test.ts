import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  createSecretCipher,
  parseSecretKeys,
  secretCipherFromEnv,
  type SecretEnvelope
} from '../../../../services/dispatcher/src/subscriptions/crypto.js'
import { SecretKeyError } from '../../../../services/dispatcher/src/errors.js'

const k1 = { id: 'k1', key: randomBytes(32) }
const k2 = { id: 'k2', key: randomBytes(32) }
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

const flipFirstByte = (base64: string): string => {
  const bytes = Buffer.from(base64, 'base64')
  bytes[0] = (bytes[0] ?? 0) ^ 0x01
  return bytes.toString('base64')
}

describe('createSecretCipher', () => {
  it('round-trips, with a fresh 12-byte IV each time and no plaintext in the envelope', () => {
    const cipher = createSecretCipher([k1], 'k1')
    const a = cipher.encrypt(secret)
    const b = cipher.encrypt(secret)
    expect(a.kid).toBe('k1')
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12)
    expect(Buffer.from(a.tag, 'base64')).toHaveLength(16)
    expect(a.iv).not.toBe(b.iv)
    expect(a.data).not.toBe(b.data)
    expect(JSON.stringify(a)).not.toContain(secret)
    expect(JSON.stringify(a)).not.toContain(secret.slice(6))
    expect(cipher.decrypt(a)).toBe(secret)
    expect(cipher.decrypt(b)).toBe(secret)
  })

  it('detects tampering with data, tag or iv, and never puts the plaintext in the error', () => {
    const cipher = createSecretCipher([k1], 'k1')
    const envelope = cipher.encrypt(secret)
    const tampered: SecretEnvelope[] = [
      { ...envelope, data: flipFirstByte(envelope.data) },
      { ...envelope, tag: flipFirstByte(envelope.tag) },
      { ...envelope, iv: flipFirstByte(envelope.iv) }
    ]
    for (const bad of tampered) {
      let caught: unknown
      try {
        cipher.decrypt(bad)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(SecretKeyError)
      expect((caught as SecretKeyError).code).toBe('WHD_ERR_SECRET_KEY')
      expect((caught as SecretKeyError).retriable).toBe(false)
      expect((caught as Error).message).toContain('failed authentication')
      expect((caught as Error).message).not.toContain(secret)
    }
  })

  it('binds the envelope to its context (additional authenticated data)', () => {
    const cipher = createSecretCipher([k1], 'k1')
    const envelope = cipher.encrypt(secret, 'sub-a')
    expect(cipher.decrypt(envelope, 'sub-a')).toBe(secret)
    expect(codeOf(() => cipher.decrypt(envelope, 'sub-b'))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => cipher.decrypt(envelope))).toBe('WHD_ERR_SECRET_KEY')
  })

  it('key rotation: new envelopes use the new current key, old ones still decrypt with theirs', () => {
    const before = createSecretCipher([k1], 'k1')
    const old = before.encrypt(secret)
    const after = createSecretCipher([k2, k1], 'k2')
    const fresh = after.encrypt(secret)
    expect(after.currentKeyId).toBe('k2')
    expect(fresh.kid).toBe('k2')
    expect(after.decrypt(old)).toBe(secret)
    expect(after.decrypt(fresh)).toBe(secret)
    // The old deployment cannot read what the new key wrote, and says why.
    let caught: unknown
    try {
      before.decrypt(fresh)
    } catch (err) {
      caught = err
    }
    expect((caught as SecretKeyError).code).toBe('WHD_ERR_SECRET_KEY')
    expect((caught as SecretKeyError).kid).toBe('k2')
    expect((caught as Error).message).toMatch(/no key "k2".*SECRETS_ENCRYPTION_KEYS/)
  })

  it('a different key under the same id fails authentication', () => {
    const envelope = createSecretCipher([k1], 'k1').encrypt(secret)
    const impostor = createSecretCipher([{ id: 'k1', key: randomBytes(32) }], 'k1')
    expect(codeOf(() => impostor.decrypt(envelope))).toBe('WHD_ERR_SECRET_KEY')
  })

  it('rejects malformed envelopes with WHD_ERR_SECRET_KEY', () => {
    const cipher = createSecretCipher([k1], 'k1')
    const envelope = cipher.encrypt(secret)
    expect(codeOf(() => cipher.decrypt({ ...envelope, iv: Buffer.alloc(8).toString('base64') }))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => cipher.decrypt({ ...envelope, tag: Buffer.alloc(4).toString('base64') }))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => cipher.decrypt({ ...envelope, data: 'not base64!' }))).toBe('WHD_ERR_SECRET_KEY')
  })

  it('refuses keys that are not 32 bytes, duplicate ids, bad ids and an unknown current id', () => {
    expect(codeOf(() => createSecretCipher([{ id: 'k1', key: randomBytes(16) }], 'k1'))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => createSecretCipher([{ id: 'k1', key: randomBytes(33) }], 'k1'))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => createSecretCipher([k1, { ...k2, id: 'k1' }], 'k1'))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => createSecretCipher([{ ...k1, id: 'bad id' }], 'bad id'))).toBe('WHD_ERR_SECRET_KEY')
    expect(codeOf(() => createSecretCipher([k1], 'k9'))).toBe('WHD_ERR_SECRET_KEY')
  })
})

describe('parseSecretKeys', () => {
  const b64 = (bytes: Buffer): string => bytes.toString('base64')

  it('parses id:base64 entries, the first being current', () => {
    const parsed = parseSecretKeys(` k2:${b64(k2.key)} , k1:${b64(k1.key)}`)
    expect(parsed.currentId).toBe('k2')
    expect(parsed.keys.map((k) => k.id)).toEqual(['k2', 'k1'])
    expect(parsed.keys[0]?.key.equals(k2.key)).toBe(true)
    expect(parsed.keys[1]?.key.equals(k1.key)).toBe(true)
  })

  it('builds a working cipher from the environment', () => {
    const cipher = secretCipherFromEnv({ SECRETS_ENCRYPTION_KEYS: `k2:${b64(k2.key)},k1:${b64(k1.key)}` })
    const oldEnvelope = createSecretCipher([k1], 'k1').encrypt(secret)
    expect(cipher.currentKeyId).toBe('k2')
    expect(cipher.decrypt(oldEnvelope)).toBe(secret)
  })

  it.each([
    ['missing', undefined, /is required/],
    ['empty', '  ', /is required/],
    ['no colon', b64(k1.key), /entry 1 must be id:base64key/],
    ['empty id', `:${b64(k1.key)}`, /entry 1 must be id:base64key/],
    ['trailing comma', `k1:${b64(k1.key)},`, /entry 2 must be id:base64key/],
    ['bad id', `k 1:${b64(k1.key)}`, /key id must be/],
    ['duplicate id', `k1:${b64(k1.key)},k1:${b64(k2.key)}`, /appears twice/],
    ['not base64', 'k1:@@@@', /must be standard base64/],
    ['16-byte key', `k1:${b64(randomBytes(16))}`, /must decode to 32 bytes, got 16/],
    ['64-byte key', `k1:${b64(randomBytes(64))}`, /must decode to 32 bytes, got 64/]
  ])('rejects %s with a ConfigError naming the variable and not the key', (_name, raw, message) => {
    let caught: unknown
    try {
      parseSecretKeys(raw, 'MY_KEYS')
    } catch (err) {
      caught = err
    }
    const err = caught as { code?: string, variable?: string, message: string }
    expect(err.code).toBe('WHD_ERR_CONFIG')
    expect(err.variable).toBe('MY_KEYS')
    expect(err.message).toMatch(/^MY_KEYS: /)
    expect(err.message).toMatch(message)
    expect(err.message).not.toContain(b64(k1.key))
  })
})

describe('record MACs', () => {
  const data = Buffer.from('whd-subscription-record\n"sub-1"\n{"id":"sub-1"}')

  it('verify with the key the MAC names, under rotation; changed data or another key fails', () => {
    const old = createSecretCipher([k1], 'k1')
    const rotated = createSecretCipher([k2, k1], 'k2')
    const mac = old.mac(data)
    expect(mac.kid).toBe('k1')
    expect(Buffer.from(mac.value, 'base64')).toHaveLength(32)
    expect(rotated.verifyMac(data, mac)).toBe(true)
    expect(rotated.mac(data).kid).toBe('k2')
    expect(rotated.verifyMac(Buffer.concat([data, Buffer.from(' ')]), mac)).toBe(false)
    // A key of the same id but other bytes: fails, does not throw.
    expect(createSecretCipher([{ id: 'k1', key: randomBytes(32) }], 'k1').verifyMac(data, mac)).toBe(false)
    expect(old.verifyMac(data, { kid: 'k1', value: 'not base64!' })).toBe(false)
    expect(old.verifyMac(data, { kid: 'k1', value: flipFirstByte(mac.value) })).toBe(false)
  })

  it('a MAC naming a key that is not configured cannot be verified: SecretKeyError with the kid', () => {
    const mac = createSecretCipher([k1], 'k1').mac(data)
    expect(() => createSecretCipher([k2], 'k2').verifyMac(data, mac)).toThrow(expect.objectContaining({ code: 'WHD_ERR_SECRET_KEY', kid: 'k1' }))
  })

  it('the MAC key is derived, not the AES key itself', () => {
    const mac = createSecretCipher([k1], 'k1').mac(data)
    expect(mac.value).not.toBe(createHmac('sha256', k1.key).update(data).digest('base64'))
  })
})
