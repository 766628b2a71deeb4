import { createHmac } from 'node:crypto'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import {
  decodeSecret,
  generateSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders
} from '../../../../services/dispatcher/src/delivery/sign.js'

// The vector of the Standard Webhooks reference libraries' "sign function
// works" tests: libraries/javascript/src/webhook.test.ts and
// libraries/python/tests/test_webhooks.py (test_sign_function) in
// github.com/standard-webhooks/standard-webhooks.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampSeconds: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

describe('signWebhook', () => {
  it('matches the Standard Webhooks reference vector', () => {
    const { secret, id, timestampSeconds, body } = VECTOR
    expect(signWebhook({ id, timestampSeconds, body, secrets: [secret] })).toBe(VECTOR.signature)
  })

  it('accepts the secret without the whsec_ prefix, as the libraries do', () => {
    const { secret, id, timestampSeconds, body } = VECTOR
    expect(signWebhook({ id, timestampSeconds, body, secrets: [secret.slice('whsec_'.length)] })).toBe(VECTOR.signature)
  })

  it('signs the body bytes: a Uint8Array body gives the same signature as its string', () => {
    const { secret, id, timestampSeconds, body } = VECTOR
    expect(signWebhook({ id, timestampSeconds, body: Buffer.from(body), secrets: [secret] })).toBe(VECTOR.signature)
  })

  it('signs non-ASCII bodies as UTF-8', () => {
    const secret = generateSecret()
    const body = '{"name":"Zoë — 日本"}'
    const expected = createHmac('sha256', decodeSecret(secret)).update(Buffer.from(`msg_1.1700000000.${body}`, 'utf8')).digest('base64')
    expect(signWebhook({ id: 'msg_1', timestampSeconds: 1700000000, body, secrets: [secret] })).toBe(`v1,${expected}`)
  })

  it('lists one signature per secret, space-separated, in order (rotation)', () => {
    const { secret, id, timestampSeconds, body } = VECTOR
    const other = generateSecret()
    const header = signWebhook({ id, timestampSeconds, body, secrets: [other, secret] })
    const parts = header.split(' ')
    expect(parts).toHaveLength(2)
    expect(parts[0]).toBe(signWebhook({ id, timestampSeconds, body, secrets: [other] }))
    expect(parts[1]).toBe(VECTOR.signature)
  })

  it('changes with the id, the timestamp and the body', () => {
    const { secret, id, timestampSeconds, body } = VECTOR
    const sign = (over: Partial<typeof VECTOR>): string => signWebhook({ id, timestampSeconds, body, secrets: [secret], ...over })
    expect(sign({ id: 'msg_other' })).not.toBe(VECTOR.signature)
    expect(sign({ timestampSeconds: timestampSeconds + 1 })).not.toBe(VECTOR.signature)
    expect(sign({ body: '{"test": 2432232315}' })).not.toBe(VECTOR.signature)
  })

  it('refuses no secrets, malformed secrets and bad timestamps', () => {
    const { id, timestampSeconds, body, secret } = VECTOR
    expect(() => signWebhook({ id, timestampSeconds, body, secrets: [] })).toThrow(TypeError)
    for (const bad of ['', 'whsec_', 'whsec_not base64!', 'whsec_abc']) {
      expect(() => signWebhook({ id, timestampSeconds, body, secrets: [bad] }), bad).toThrow(TypeError)
    }
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => signWebhook({ id, timestampSeconds: bad, body, secrets: [secret] }), String(bad)).toThrow(RangeError)
    }
  })

  it('never puts the secret into an error message', () => {
    const secret = 'whsec_c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=!'
    expect(() => decodeSecret(secret)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('c2VjcmV0') }))
  })
})

describe('generateSecret', () => {
  it('makes whsec_ + base64 of 32 random bytes by default', () => {
    const secret = generateSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
    expect(decodeSecret(secret)).toHaveLength(32)
    expect(generateSecret()).not.toBe(secret)
  })

  it('allows 24 to 64 bytes and refuses anything else', () => {
    expect(decodeSecret(generateSecret(24))).toHaveLength(24)
    expect(decodeSecret(generateSecret(64))).toHaveLength(64)
    for (const bad of [0, 23, 65, 32.5, Number.NaN]) {
      expect(() => generateSecret(bad), String(bad)).toThrow(RangeError)
    }
  })

  it('makes secrets the official library accepts', () => {
    const secret = generateSecret(48)
    const headers = webhookHeaders({
      id: 'msg_x',
      timestampSeconds: nowSeconds(),
      signature: signWebhook({ id: 'msg_x', timestampSeconds: nowSeconds(), body: '{}', secrets: [secret] })
    })
    expect(new Webhook(secret).verify('{}', { ...headers })).toEqual({})
  })
})

describe('webhookHeaders', () => {
  it('gives the three Standard Webhooks headers with the timestamp in decimal seconds', () => {
    expect(webhookHeaders({ id: VECTOR.id, timestampSeconds: VECTOR.timestampSeconds, signature: VECTOR.signature })).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature
    })
  })
})

describe('round trip through the official standardwebhooks package', () => {
  const id = 'msg_2Lq0bW3fQ6uH'
  const body = JSON.stringify({ type: 'transaction.posted', timestamp: '2024-05-01T10:00:00.000Z', data: { amount: '12.50' } })

  function signed (secrets: string[], timestampSeconds = nowSeconds()): Record<string, string> {
    return { ...webhookHeaders({ id, timestampSeconds, signature: signWebhook({ id, timestampSeconds, body, secrets }) }) }
  }

  it('verifies with the secret, with or without its prefix', () => {
    const secret = generateSecret()
    expect(new Webhook(secret).verify(body, signed([secret]))).toEqual(JSON.parse(body))
    expect(new Webhook(secret.slice('whsec_'.length)).verify(body, signed([secret]))).toEqual(JSON.parse(body))
  })

  it('verifies a multi-signature header when the receiver knows only one of the secrets', () => {
    const oldSecret = generateSecret()
    const newSecret = generateSecret()
    const headers = signed([oldSecret, newSecret])
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual(JSON.parse(body))
    expect(new Webhook(newSecret).verify(body, headers)).toEqual(JSON.parse(body))
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow(WebhookVerificationError)
  })

  it('is rejected for a tampered body', () => {
    const secret = generateSecret()
    expect(() => new Webhook(secret).verify(body.replace('12.50', '99.50'), signed([secret]))).toThrow(WebhookVerificationError)
  })

  it('verifies signatures the official package makes', () => {
    const secret = generateSecret()
    const timestampSeconds = nowSeconds()
    const signature = new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), body)
    expect(signWebhook({ id, timestampSeconds, body, secrets: [secret] })).toBe(signature)
    const headers = webhookHeaders({ id, timestampSeconds, signature })
    expect(verifyWebhook({ body, headers: { ...headers }, secrets: [secret] })).toEqual({ ok: true, id, timestampSeconds })
  })
})

describe('verifyWebhook', () => {
  const { secret, id, timestampSeconds, body } = VECTOR
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': VECTOR.signature }
  const verify = (over: Partial<Parameters<typeof verifyWebhook>[0]> = {}): ReturnType<typeof verifyWebhook> =>
    verifyWebhook({ body, headers, secrets: [secret], nowSeconds: timestampSeconds, ...over })

  it('accepts the reference vector', () => {
    expect(verify()).toEqual({ ok: true, id, timestampSeconds })
  })

  it('accepts a Buffer body and header names in any case', () => {
    const upper = { 'Webhook-Id': id, 'WEBHOOK-TIMESTAMP': String(timestampSeconds), 'Webhook-Signature': VECTOR.signature }
    expect(verify({ body: Buffer.from(body), headers: upper }).ok).toBe(true)
  })

  it('accepts a header with several signatures of which one matches, and other versions', () => {
    const sigs = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      VECTOR.signature,
      'v1a,garbage'
    ].join(' ')
    expect(verify({ headers: { ...headers, 'webhook-signature': sigs } }).ok).toBe(true)
  })

  it('accepts when any of several receiver secrets matches', () => {
    expect(verify({ secrets: [generateSecret(), secret] }).ok).toBe(true)
  })

  it('rejects a wrong secret, a tampered body, id or timestamp', () => {
    expect(verify({ secrets: [generateSecret()] })).toEqual({ ok: false, reason: 'no-matching-signature' })
    expect(verify({ body: '{"test": 2432232315}' })).toEqual({ ok: false, reason: 'no-matching-signature' })
    expect(verify({ headers: { ...headers, 'webhook-id': 'msg_other' } })).toEqual({ ok: false, reason: 'no-matching-signature' })
    expect(verify({ headers: { ...headers, 'webhook-timestamp': String(timestampSeconds + 1) } }))
      .toEqual({ ok: false, reason: 'no-matching-signature' })
  })

  it('rejects partial, re-encoded and unversioned signatures', () => {
    const digest = VECTOR.signature.slice(3)
    for (const bad of [VECTOR.signature.slice(0, 8), 'v1,', digest, `v2,${digest}`, `v1,${digest.replace('OE=', 'OF=')}`, `v1,${digest}=`]) {
      expect(verify({ headers: { ...headers, 'webhook-signature': bad } }), bad).toEqual({ ok: false, reason: 'no-matching-signature' })
    }
  })

  it('rejects missing headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const partial: Record<string, string> = { ...headers }
      delete partial[name]
      expect(verify({ headers: partial }), name).toEqual({ ok: false, reason: 'missing-headers' })
    }
  })

  it('rejects a timestamp that is not decimal seconds', () => {
    for (const bad of ['hello', '', '1614265330.5', '-1614265330', '1e9']) {
      const result = verify({ headers: { ...headers, 'webhook-timestamp': bad } })
      expect(result.ok, bad).toBe(false)
    }
    expect(verify({ headers: { ...headers, 'webhook-timestamp': 'hello' } })).toEqual({ ok: false, reason: 'invalid-timestamp' })
  })

  it('tolerates 5 minutes of clock difference either way, and no more', () => {
    expect(verify({ nowSeconds: timestampSeconds + 300 }).ok).toBe(true)
    expect(verify({ nowSeconds: timestampSeconds - 300 }).ok).toBe(true)
    expect(verify({ nowSeconds: timestampSeconds + 301 })).toEqual({ ok: false, reason: 'timestamp-too-old' })
    expect(verify({ nowSeconds: timestampSeconds - 301 })).toEqual({ ok: false, reason: 'timestamp-too-new' })
    expect(verify({ nowSeconds: timestampSeconds + 30, toleranceSeconds: 10 })).toEqual({ ok: false, reason: 'timestamp-too-old' })
  })

  it('checks the timestamp against the real clock by default', () => {
    expect(verifyWebhook({ body, headers, secrets: [secret] })).toEqual({ ok: false, reason: 'timestamp-too-old' })
  })
})
