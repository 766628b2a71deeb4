import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { loadDemoReceiverConfig } from '../../../services/demo-receiver/src/config.js'
import { startDemoReceiver, type DemoReceiver, type DemoReceiverOptions } from '../../../services/demo-receiver/src/receiver.js'
import { createHttpDeliverer, type HttpDelivererOptions } from '../../../services/dispatcher/src/delivery/http-deliverer.js'
import { toWebhookBody } from '../../../services/dispatcher/src/delivery/payload.js'
import { generateSecret, signWebhook, webhookHeaders } from '../../../services/dispatcher/src/delivery/sign.js'
import type { AttemptResult, Deliverer } from '../../../services/dispatcher/src/delivery/types.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function receiver (options: Omit<DemoReceiverOptions, 'port' | 'print'>): Promise<{ receiver: DemoReceiver, lines: string[] }> {
  const lines: string[] = []
  const started = await startDemoReceiver({ port: 0, print: (line) => lines.push(line), ...options })
  cleanups.push(started.close)
  return { receiver: started, lines }
}

function deliverer (options: HttpDelivererOptions = {}): Deliverer {
  const instance = createHttpDeliverer(options)
  cleanups.push(instance.close)
  return instance.deliver
}

const body = toWebhookBody({
  eventId: '5a2b8c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d',
  eventType: 'transaction.posted',
  occurredAt: new Date('2024-05-01T10:15:30.123Z'),
  tenantId: 'tenant-a',
  accountId: 'acc-42',
  accountSequence: 7,
  amount: '12.5000',
  currency: 'EUR'
})

function status (result: AttemptResult): number {
  if (result.kind !== 'response') throw new Error(`expected a response, got ${result.code}: ${result.message}`)
  return result.status
}

describe('demo receiver', () => {
  it('answers 204 to a correctly signed webhook and prints one line about it', async () => {
    const secret = generateSecret()
    const { receiver: demo, lines } = await receiver({ secret })
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks$/)

    expect(status(await deliverer()({ url: demo.url, webhookId: '5a2b8c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', body, secrets: [secret] }))).toBe(204)
    expect(demo.stats()).toMatchObject({ received: 1, valid: 1, accepted: 1, invalid: 0 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/transaction\.posted.*account=acc-42 +seq=7 +id=5a2b8c1d +sig=ok +→ 204/)
  })

  it('notes a gap in an account\'s sequence, read from the body alone', async () => {
    const secret = generateSecret()
    const { receiver: demo, lines } = await receiver({ secret })
    const event = (eventId: string, accountSequence: number): string => toWebhookBody({ eventId, eventType: 'account.updated', occurredAt: new Date(), tenantId: 't', accountId: 'acc-7', accountSequence })
    expect(status(await deliverer()({ url: demo.url, webhookId: 'e1', body: event('e1', 1), secrets: [secret] }))).toBe(204)
    expect(status(await deliverer()({ url: demo.url, webhookId: 'e4', body: event('e4', 4), secrets: [secret] }))).toBe(204)
    expect(lines[0]).not.toMatch(/gap/)
    expect(lines[1]).toMatch(/seq=4 .*gap: 2 earlier event/)
  })

  it('answers 401 to a webhook signed with another secret', async () => {
    const { receiver: demo, lines } = await receiver({ secret: generateSecret() })
    expect(status(await deliverer()({ url: demo.url, webhookId: 'evt-wrong', body, secrets: [generateSecret()] }))).toBe(401)
    expect(demo.stats()).toMatchObject({ received: 1, valid: 0, invalid: 1, accepted: 0 })
    expect(lines[0]).toMatch(/sig=BAD +→ 401 +no-matching-signature/)
  })

  it('accepts a rotation header when it knows one of the secrets', async () => {
    const secret = generateSecret()
    const { receiver: demo } = await receiver({ secret })
    expect(status(await deliverer()({ url: demo.url, webhookId: 'evt-rot', body, secrets: [generateSecret(), secret] }))).toBe(204)
  })

  it('answers 401 to a webhook whose timestamp is outside the 5-minute tolerance', async () => {
    const secret = generateSecret()
    const { receiver: demo, lines } = await receiver({ secret })
    const stale = deliverer({ now: () => Date.now() - 6 * 60_000 })
    expect(status(await stale({ url: demo.url, webhookId: 'evt-stale', body, secrets: [secret] }))).toBe(401)
    expect(lines[0]).toContain('timestamp-too-old')
  })

  it('answers 401 when the body was changed after signing', async () => {
    const secret = generateSecret()
    const { receiver: demo } = await receiver({ secret })
    const timestampSeconds = Math.floor(Date.now() / 1000)
    const headers = webhookHeaders({ id: 'evt-a', timestampSeconds, signature: signWebhook({ id: 'evt-a', timestampSeconds, body, secrets: [secret] }) })
    const post = (payload: string): Promise<number> => new Promise<number>((resolve, reject) => {
      const req = httpRequest(demo.url, { method: 'POST', headers: { ...headers } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end(payload)
    })
    expect(body).toContain('"amount":"12.50"')
    expect(await post(body.replace('12.50', '99.50'))).toBe(401)
    expect(await post(body)).toBe(204)
  })

  it('dedupes by webhook-id: a redelivery is answered 204 and reported as duplicate', async () => {
    const secret = generateSecret()
    const { receiver: demo, lines } = await receiver({ secret })
    const deliver = deliverer()
    for (let i = 0; i < 3; i++) {
      expect(status(await deliver({ url: demo.url, webhookId: 'evt-dup', body, secrets: [secret] }))).toBe(204)
    }
    expect(status(await deliver({ url: demo.url, webhookId: 'evt-other', body, secrets: [secret] }))).toBe(204)
    expect(demo.stats()).toMatchObject({ received: 4, valid: 4, accepted: 2, duplicates: 2 })
    expect(lines.map((line) => line.endsWith('duplicate'))).toEqual([false, true, true, false])
  })

  it('with FAIL_RATE answers 500 and does not count the webhook as seen', async () => {
    const secret = generateSecret()
    let failNext = true
    const { receiver: demo, lines } = await receiver({ secret, failRate: 0.5, random: () => (failNext ? 0.1 : 0.9) })
    const deliver = deliverer()
    expect(status(await deliver({ url: demo.url, webhookId: 'evt-retry', body, secrets: [secret] }))).toBe(500)
    failNext = false
    expect(status(await deliver({ url: demo.url, webhookId: 'evt-retry', body, secrets: [secret] }))).toBe(204)
    expect(demo.stats()).toMatchObject({ failed: 1, accepted: 1, duplicates: 0 })
    expect(lines[0]).toContain('failure injected')
  })

  it('with LATENCY_MS waits before answering', async () => {
    const secret = generateSecret()
    const { receiver: demo } = await receiver({ secret, latencyMs: 250 })
    const result = await deliverer()({ url: demo.url, webhookId: 'evt-slow', body, secrets: [secret] })
    expect(status(result)).toBe(204)
    expect(result.durationMs).toBeGreaterThanOrEqual(240)
  })

  it('refuses a malformed secret at start-up, and close() twice is safe', async () => {
    await expect(startDemoReceiver({ port: 0, secret: 'whsec_???' })).rejects.toThrow(TypeError)
    const { receiver: demo } = await receiver({ secret: generateSecret() })
    const first = demo.close()
    expect(demo.close()).toBe(first)
    await first
  })
})

describe('loadDemoReceiverConfig', () => {
  const secret = generateSecret()

  it('has defaults for everything but the secret', () => {
    expect(loadDemoReceiverConfig({ WEBHOOK_SECRET: secret })).toEqual({ port: 18088, secret, failRate: 0, latencyMs: 0 })
  })

  it('reads every variable', () => {
    expect(loadDemoReceiverConfig({ WEBHOOK_SECRET: secret, PORT: '0', FAIL_RATE: '0.25', LATENCY_MS: '150' }))
      .toEqual({ port: 0, secret, failRate: 0.25, latencyMs: 150 })
  })

  it('listens on HOST when it is set (the compose demo: 0.0.0.0), else on loopback', () => {
    expect(loadDemoReceiverConfig({ WEBHOOK_SECRET: secret, HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
    expect(loadDemoReceiverConfig({ WEBHOOK_SECRET: secret }).host).toBeUndefined()
  })

  it('is frozen', () => {
    expect(Object.isFrozen(loadDemoReceiverConfig({ WEBHOOK_SECRET: secret }))).toBe(true)
  })

  it.each([
    [{}, /WEBHOOK_SECRET is required/],
    [{ WEBHOOK_SECRET: 'whsec_!!' }, /WEBHOOK_SECRET must be/],
    [{ WEBHOOK_SECRET: secret, PORT: '70000' }, /PORT/],
    [{ WEBHOOK_SECRET: secret, PORT: 'http' }, /PORT/],
    [{ WEBHOOK_SECRET: secret, FAIL_RATE: '1.5' }, /FAIL_RATE/],
    [{ WEBHOOK_SECRET: secret, FAIL_RATE: 'often' }, /FAIL_RATE/],
    [{ WEBHOOK_SECRET: secret, LATENCY_MS: '-5' }, /LATENCY_MS/]
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadDemoReceiverConfig(env)).toThrow(message)
  })

  it('never echoes the secret in its error', () => {
    expect(() => loadDemoReceiverConfig({ WEBHOOK_SECRET: 'whsec_topsecret!!' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('topsecret') }))
  })
})
