import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Admin, Kafka } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runImport } from '../../../../services/dispatcher/src/cli/import-subscriptions.js'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { secretCipherFromEnv } from '../../../../services/dispatcher/src/subscriptions/crypto.js'
import { TopicSubscriptionStore } from '../../../../services/dispatcher/src/subscriptions/topic-store.js'
import { testKafka, uniqueTopic } from '../../../support/kafka.js'
import { testStack } from '../../../support/stack.js'
import { readRawRecords } from './raw-records.js'

const secret = (label: string): string => `whsec_${Buffer.from(`import-test-secret-${label}-0123456789`).toString('base64')}`

const file = {
  subscriptions: [
    { id: 'imp-1', tenantId: 'tenant-a', url: 'https://a.example.com/hook', eventTypes: ['transaction.*'], secrets: [secret('one')], maxInFlight: 4, description: 'first' },
    { id: 'imp-2', tenantId: 'tenant-a', url: 'https://a.example.com/other', eventTypes: ['account.opened', 'account.closed'], secret: secret('two') },
    { id: 'imp-3', tenantId: 'tenant-b', url: 'http://127.0.0.1:9999/local', eventTypes: ['*'], secrets: [secret('three-new'), secret('three-old')], enabled: false }
  ]
}

describe('import-subscriptions', () => {
  let kafka: Kafka
  let admin: Admin
  let env: NodeJS.ProcessEnv
  const topic = uniqueTopic('test-subscriptions-import')

  const run = async (path: string): Promise<{ code: number, out: string[], err: string[] }> => {
    const out: string[] = []
    const err: string[] = []
    const code = await runImport([path], env, { out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out, err }
  }

  const writeJson = async (value: unknown): Promise<string> => {
    const path = join(await mkdtemp(join(tmpdir(), 'whd-import-')), 'subscriptions.json')
    await writeFile(path, JSON.stringify(value))
    return path
  }

  beforeAll(async () => {
    kafka = await testKafka('test-import-subscriptions')
    admin = kafka.admin()
    await admin.connect()
    env = {
      KAFKA_BROKERS: (await testStack()).brokers.join(','),
      SUBSCRIPTIONS_TOPIC: topic,
      SECRETS_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      TOPIC_REPLICATION_FACTOR: '1',
      SSRF_ALLOW_CIDRS: '127.0.0.0/8',
      ALLOW_HTTP: 'true'
    }
  })

  afterAll(async () => {
    try {
      if ((await admin.listTopics()).includes(topic)) await admin.deleteTopics({ topics: [topic] })
    } finally {
      await admin.disconnect()
    }
  })

  it('imports once, then finds everything unchanged; secrets as given, never in plaintext on the topic', async () => {
    const path = await writeJson(file)
    const first = await run(path)
    expect(first.err).toEqual([])
    expect(first.code).toBe(0)
    expect(first.out.at(-1)).toBe(`3 subscriptions in the file: 3 created, 0 updated, 0 unchanged (topic ${topic})`)

    const second = await run(path)
    expect(second.code).toBe(0)
    expect(second.out).toEqual([
      'unchanged imp-1',
      'unchanged imp-2',
      'unchanged imp-3',
      `3 subscriptions in the file: 0 created, 0 updated, 3 unchanged (topic ${topic})`
    ])

    const store = new TopicSubscriptionStore({ kafka, cipher: secretCipherFromEnv(env), ssrf: createSsrfPolicy({}), topic })
    try {
      await store.start()
      expect(store.revealSecrets('imp-1')).toEqual([secret('one')])
      expect(store.revealSecrets('imp-2')).toEqual([secret('two')])
      expect(store.revealSecrets('imp-3')).toEqual([secret('three-new'), secret('three-old')])
      expect(store.get('imp-1')).toMatchObject({ tenantId: 'tenant-a', url: 'https://a.example.com/hook', eventTypes: ['transaction.*'], maxInFlight: 4, description: 'first', enabled: true, paused: false })
      expect(store.get('imp-3')).toMatchObject({ enabled: false, disabledReason: 'disabled in the subscriptions file' })
      expect(store.forTenant('tenant-a').map((s) => s.id).sort()).toEqual(['imp-1', 'imp-2'])
      // An operator pauses one endpoint; a later import keeps that.
      await store.setPaused('imp-2', true)
    } finally {
      await store.close()
    }

    const records = await readRawRecords(kafka, topic)
    expect(records).toHaveLength(4)
    const bytes = Buffer.concat(records.map((r) => r.value ?? Buffer.alloc(0)))
    expect(bytes.includes(Buffer.from('imp-3'))).toBe(true)
    for (const label of ['one', 'two', 'three-new', 'three-old']) {
      expect(bytes.includes(Buffer.from(secret(label)))).toBe(false)
      expect(bytes.includes(Buffer.from(secret(label).slice('whsec_'.length)))).toBe(false)
      expect(bytes.includes(Buffer.from(`import-test-secret-${label}`))).toBe(false)
    }

    const changed = await writeJson({ subscriptions: [{ ...file.subscriptions[0], eventTypes: ['*'] }, ...file.subscriptions.slice(1)] })
    const third = await run(changed)
    expect(third.code).toBe(0)
    expect(third.out).toEqual([
      'updated   imp-1',
      'unchanged imp-2',
      'unchanged imp-3',
      `3 subscriptions in the file: 0 created, 1 updated, 2 unchanged (topic ${topic})`
    ])
    const after = new TopicSubscriptionStore({ kafka, cipher: secretCipherFromEnv(env), ssrf: createSsrfPolicy({}), topic })
    try {
      await after.start()
      expect(after.get('imp-1')?.eventTypes).toEqual(['*'])
      expect(after.get('imp-2')?.paused).toBe(true)
    } finally {
      await after.close()
    }
  })

  it('fails with exit code 1 when Kafka is unreachable', async () => {
    const path = await writeJson(file)
    const out: string[] = []
    const err: string[] = []
    const code = await runImport([path], { ...env, KAFKA_BROKERS: '127.0.0.1:1' }, { out: (l) => out.push(l), err: (l) => err.push(l) })
    expect(code).toBe(1)
    expect(err.at(-1)).toMatch(/^import-subscriptions failed/)
  }, 90_000)
})
