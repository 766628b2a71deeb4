import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importedSubscription, importSubscriptions, importSubscriptionsFile, runImport } from '../../../../services/dispatcher/src/cli/import-subscriptions.js'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { MemorySubscriptionStore } from '../../../../services/dispatcher/src/subscriptions/memory-store.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const fromFile: Subscription = {
  id: 'legacy-1',
  tenantId: 'tenant-a',
  url: 'https://hooks.example.com/in',
  eventTypes: ['transaction.*'],
  secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  enabled: true
}

describe('importedSubscription', () => {
  it('takes the file as it is when the topic does not have the id', () => {
    expect(importedSubscription(fromFile, undefined)).toEqual({ ...fromFile, paused: false })
  })

  it('writes a quarantined endpoint again from the file: its secrets are given, so the quarantine ends', async () => {
    const existing = { ...fromFile, secrets: [], enabled: false, disabledReason: 'quarantined: unsigned', quarantined: 'unsigned' } as Subscription
    const imported = importedSubscription(fromFile, existing)
    expect(imported).toEqual({ ...fromFile, paused: false })
    const store = new MemorySubscriptionStore({ ssrf: createSsrfPolicy({}) })
    expect((await store.upsert(imported)).outcome).toBe('created')
  })

  it('keeps what the file leaves out from the topic, and takes what it gives', () => {
    const existing: Subscription = {
      ...fromFile,
      url: 'https://old.example.com/',
      secrets: ['whsec_b2xkLXNlY3JldC1ieXRlcy0wMTIzNDU2Nzg5YWJj'],
      paused: true,
      rateLimitPerSecond: 5,
      description: 'kept',
      tls: { caPem: '-----BEGIN CERTIFICATE-----\n' },
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-02T00:00:00.000Z'
    }
    expect(importedSubscription({ ...fromFile, maxInFlight: 3 }, existing)).toEqual({
      ...fromFile,
      maxInFlight: 3,
      paused: true,
      rateLimitPerSecond: 5,
      description: 'kept',
      tls: { caPem: '-----BEGIN CERTIFICATE-----\n' }
    })
  })

  it('disabled in the file: keeps the reason on the topic, or says where it came from', () => {
    expect(importedSubscription({ ...fromFile, enabled: false }, undefined).disabledReason).toBe('disabled in the subscriptions file')
    expect(importedSubscription({ ...fromFile, enabled: false }, { ...fromFile, enabled: false, disabledReason: '410 Gone' }).disabledReason).toBe('410 Gone')
    expect(importedSubscription(fromFile, { ...fromFile, enabled: false, disabledReason: '410 Gone' }).disabledReason).toBeUndefined()
  })
})

describe('importSubscriptions', () => {
  it('creates, then leaves alone, then updates what changed', async () => {
    const store = new MemorySubscriptionStore({ ssrf: createSsrfPolicy({}) })
    const second = { ...fromFile, id: 'legacy-2', tenantId: 'tenant-b' }
    expect(await importSubscriptions(store, [fromFile, second])).toEqual({ created: ['legacy-1', 'legacy-2'], updated: [], unchanged: [] })
    expect(await importSubscriptions(store, [fromFile, second])).toEqual({ created: [], updated: [], unchanged: ['legacy-1', 'legacy-2'] })
    await store.setPaused('legacy-1', true)
    expect(await importSubscriptions(store, [{ ...fromFile, description: 'new' }, second])).toEqual({ created: [], updated: ['legacy-1'], unchanged: ['legacy-2'] })
    expect(store.get('legacy-1')).toMatchObject({ description: 'new', paused: true, secrets: fromFile.secrets })
  })
})

describe('importSubscriptionsFile', () => {
  it('imports a valid file, and writes nothing from an invalid one', async () => {
    const store = new MemorySubscriptionStore({ ssrf: createSsrfPolicy({}) })
    const dir = await mkdtemp(join(tmpdir(), 'whd-import-'))
    const good = join(dir, 'good.json')
    const bad = join(dir, 'bad.json')
    await writeFile(good, JSON.stringify({ subscriptions: [fromFile] }))
    await writeFile(bad, JSON.stringify({ subscriptions: [{ ...fromFile, id: 'x-2' }, { ...fromFile, id: 'x-3', eventTypes: [] }] }))
    expect(await importSubscriptionsFile(store, good, createSsrfPolicy({}))).toEqual({ created: ['legacy-1'], updated: [], unchanged: [] })
    await expect(importSubscriptionsFile(store, bad, createSsrfPolicy({}))).rejects.toMatchObject({ code: 'WHD_ERR_SUBSCRIPTIONS', message: expect.stringContaining('subscriptions[1].eventTypes') })
    expect(store.all().map((s) => s.id)).toEqual(['legacy-1'])
  })
})

describe('runImport', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number, out: string[], err: string[] }> => {
    const out: string[] = []
    const err: string[] = []
    const code = await runImport(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out, err }
  }
  const keys = `k1:${randomBytes(32).toString('base64')}`

  it.each([
    ['no file', [], { KAFKA_BROKERS: '127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: keys }, /SUBSCRIPTIONS_FILE/],
    ['a missing file', ['/nonexistent/subs.json'], { KAFKA_BROKERS: '127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: keys }, /cannot read subscriptions file \/nonexistent\/subs.json/],
    ['no brokers', ['FILE'], { SECRETS_ENCRYPTION_KEYS: keys }, /KAFKA_BROKERS: is required/],
    ['no keys', ['FILE'], { KAFKA_BROKERS: '127.0.0.1:1' }, /SECRETS_ENCRYPTION_KEYS: is required/],
    ['a short key', ['FILE'], { KAFKA_BROKERS: '127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: `k1:${randomBytes(16).toString('base64')}` }, /SECRETS_ENCRYPTION_KEYS: key "k1" must decode to 32 bytes/],
    ['a bad allow-list', ['FILE'], { KAFKA_BROKERS: '127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: keys, SSRF_ALLOW_CIDRS: 'nonsense' }, /SSRF_ALLOW_CIDRS/],
    ['an unknown flag', ['--force'], { KAFKA_BROKERS: '127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: keys }, /expected one file path/]
  ])('exits 2 for %s, naming the problem', async (_name, argv, env, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'whd-import-'))
    const file = join(dir, 'subs.json')
    await writeFile(file, JSON.stringify({ subscriptions: [fromFile] }))
    const result = await run(argv.map((a) => (a === 'FILE' ? file : a)), env)
    expect(result.code).toBe(2)
    expect(result.err.join('\n')).toMatch(message)
  })

  it('exits 2 for an invalid file, naming the entry and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'whd-import-'))
    const file = join(dir, 'subs.json')
    await writeFile(file, JSON.stringify({ subscriptions: [{ ...fromFile, url: 'https://127.0.0.1/' }] }))
    const result = await run([file], { KAFKA_BROKERS: '127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: keys })
    expect(result.code).toBe(2)
    expect(result.err.join('\n')).toMatch(/subscriptions\[0\]\.url: .*loopback/)
  })
})
