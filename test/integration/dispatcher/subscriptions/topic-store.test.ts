import { randomBytes } from 'node:crypto'
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { retryRetriable } from '../../../../services/dispatcher/src/retriable.js'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { createSecretCipher, type SecretCipher } from '../../../../services/dispatcher/src/subscriptions/crypto.js'
import type { StoreErrorContext } from '../../../../services/dispatcher/src/subscriptions/memory-store.js'
import type { SubscriptionInput } from '../../../../services/dispatcher/src/subscriptions/store.js'
import { recordRefusalReason, TopicSubscriptionStore, type TopicSubscriptionStoreOptions } from '../../../../services/dispatcher/src/subscriptions/topic-store.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'
import { testKafka, uniqueTopic } from '../../../support/kafka.js'
import { testStack } from '../../../support/stack.js'
import { waitUntil } from '../../../support/wait.js'
import { FIXTURE_CERT_PEM, FIXTURE_KEY_PEM } from '../../../support/pem-fixtures.js'
import { readRawRecords } from './raw-records.js'

const START = Date.parse('2025-03-01T12:00:00.000Z')

describe('TopicSubscriptionStore', () => {
  let kafka: Kafka
  let admin: Admin
  let cipher: SecretCipher
  let clock: number
  const stores: TopicSubscriptionStore[] = []
  const topics: string[] = []

  const input = (over: Partial<SubscriptionInput> = {}): SubscriptionInput =>
    ({ tenantId: 'tenant-a', url: 'https://hooks.example.com/in', eventTypes: ['transaction.*'], ...over })

  interface Opened {
    store: TopicSubscriptionStore
    changes: Array<[string, Subscription | undefined]>
    errors: Array<[unknown, StoreErrorContext]>
  }

  /** A store on `topic`, not started; closed after the test. */
  const open = (topic: string, over: Partial<TopicSubscriptionStoreOptions> = {}): Opened => {
    const changes: Opened['changes'] = []
    const errors: Opened['errors'] = []
    const store = new TopicSubscriptionStore({
      kafka,
      cipher,
      ssrf: createSsrfPolicy({}),
      topic,
      replicationFactor: 1,
      groupIdPrefix: 'test-subscriptions',
      now: () => clock,
      onError: (err, context) => errors.push([err, context]),
      ...over
    })
    store.onChange((id, s) => changes.push([id, s]))
    stores.push(store)
    return { store, changes, errors }
  }

  const started = async (topic: string, over: Partial<TopicSubscriptionStoreOptions> = {}): Promise<Opened> => {
    const opened = open(topic, over)
    await opened.store.start()
    return opened
  }

  const newTopic = (): string => {
    const topic = uniqueTopic('test-subscriptions')
    topics.push(topic)
    return topic
  }

  beforeAll(async () => {
    kafka = await testKafka('test-subscription-store')
    admin = kafka.admin()
    await admin.connect()
    cipher = createSecretCipher([{ id: 'k1', key: randomBytes(32) }], 'k1')
  })

  afterEach(async () => {
    clock = START
    await Promise.all(stores.splice(0).map(async (s) => await s.close()))
  })

  afterAll(async () => {
    try {
      const existing = new Set(await admin.listTopics())
      const made = topics.filter((t) => existing.has(t))
      if (made.length > 0) await admin.deleteTopics({ topics: made })
    } finally {
      await admin.disconnect()
    }
  })

  clock = START

  it('creates the topic compacted, with one partition, when it is missing', async () => {
    const topic = newTopic()
    const { store } = await started(topic)
    expect(store.ready).toBe(true)
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(metadata.topics[0]?.partitions).toHaveLength(1)
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }]
    })
    expect(resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact')
  })

  it('refuses a subscriptions topic that is not compacted', async () => {
    const topic = newTopic()
    await retryRetriable(() => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] }))
    const { store } = open(topic)
    await expect(store.start()).rejects.toMatchObject({ code: 'WHD_ERR_TOPIC_LAYOUT', message: expect.stringContaining('cleanup.policy=compact') })
    expect(store.ready).toBe(false)
  })

  it('refuses writes before start, and after close', async () => {
    const topic = newTopic()
    const { store } = open(topic)
    await expect(store.create(input())).rejects.toMatchObject({ code: 'WHD_ERR_STORE_UNAVAILABLE', retriable: true })
    await store.start()
    await store.close()
    await store.close()
    await expect(store.create(input())).rejects.toMatchObject({ code: 'WHD_ERR_STORE_UNAVAILABLE' })
  })

  it('a change on one instance reaches the other live; both tell their listeners', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const b = await started(topic)

    const { subscription: created, secret } = await a.store.create(input({ description: 'ledger' }))
    // Read-your-writes: the writer's view has it when the write resolves.
    expect(a.store.get(created.id)).toEqual(created)
    await waitUntil('B to apply the create', () => b.store.get(created.id))
    expect(b.store.get(created.id)).toEqual(created)
    expect(b.store.forTenant('tenant-a')).toEqual([created])
    expect(b.store.revealSecrets(created.id)).toEqual([secret])

    clock += 1000
    const updated = await a.store.update(created.id, { eventTypes: ['*'], maxInFlight: 3 })
    await waitUntil('B to apply the update', () => b.store.get(created.id)?.maxInFlight === 3)
    expect(b.store.get(created.id)).toEqual(updated)

    const paused = await b.store.setPaused(created.id, true)
    expect(paused.paused).toBe(true)
    await waitUntil('A to apply the pause', () => a.store.get(created.id)?.paused === true)

    await a.store.delete(created.id)
    expect(a.store.get(created.id)).toBeUndefined()
    await waitUntil('B to apply the delete', () => b.store.get(created.id) === undefined)
    expect(b.store.forTenant('tenant-a')).toEqual([])

    for (const { changes } of [a, b]) {
      expect(changes.map(([id, s]) => [id, s === undefined ? 'deleted' : `${s.eventTypes.join()}|${s.paused === true ? 'paused' : 'running'}`])).toEqual([
        [created.id, 'transaction.*|running'],
        [created.id, '*|running'],
        [created.id, '*|paused'],
        [created.id, 'deleted']
      ])
    }
    expect(a.errors).toEqual([])
    expect(b.errors).toEqual([])
  })

  it('disable() from the engine (410 Gone) is written and reaches the other instance', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const b = await started(topic)
    const { subscription } = await a.store.create(input())
    await waitUntil('B to apply the create', () => b.store.get(subscription.id))
    a.store.disable(subscription.id, '410 Gone')
    expect(a.store.get(subscription.id)?.enabled).toBe(false)
    await waitUntil('B to see the endpoint disabled', () => b.store.get(subscription.id)?.enabled === false)
    expect(b.store.get(subscription.id)?.disabledReason).toBe('410 Gone')
    const restarted = await started(topic)
    expect(restarted.store.get(subscription.id)).toMatchObject({ enabled: false, disabledReason: '410 Gone' })
    expect(a.errors).toEqual([])
  })

  it('a new instance has the whole state when start() resolves', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const made: Subscription[] = []
    for (let i = 0; i < 12; i++) {
      clock = START + i * 1000
      made.push((await a.store.create(input({ tenantId: `tenant-${i % 3}`, description: `endpoint ${i}` }))).subscription)
    }
    clock = START + 60_000
    await a.store.update(made[0]?.id ?? '', { description: 'changed' })
    await a.store.delete(made[1]?.id ?? '')
    await a.store.setEnabled(made[2]?.id ?? '', false, 'operator')
    const { secret } = await a.store.rotateSecret(made[3]?.id ?? '', 3600)
    const expected = a.store.all()
    expect(expected).toHaveLength(11)

    const restarted = open(topic)
    await restarted.store.start()
    // No waiting: start() resolved only once the view was complete.
    expect(restarted.store.all()).toEqual(expected)
    expect(restarted.store.get(made[1]?.id ?? '')).toBeUndefined()
    expect(restarted.store.revealSecrets(made[3]?.id ?? '')[0]).toBe(secret)
    expect(restarted.store.forTenant('tenant-0').map((s) => s.id)).toEqual(expected.filter((s) => s.tenantId === 'tenant-0').map((s) => s.id))
    // Listeners registered before start() saw the materialisation.
    expect(new Set(restarted.changes.map(([id]) => id))).toEqual(new Set(made.map((s) => s.id)))
  })

  it('works over several partitions when configured so', async () => {
    const topic = newTopic()
    const a = await started(topic, { partitions: 3 })
    expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions).toHaveLength(3)
    const made: Subscription[] = []
    for (let i = 0; i < 9; i++) {
      clock = START + i * 1000
      made.push((await a.store.create(input({ tenantId: `tenant-${i % 2}` }))).subscription)
    }
    await a.store.delete(made[4]?.id ?? '')
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets.filter((p) => Number(p.high) > 0).length).toBeGreaterThan(1)
    const b = await started(topic)
    expect(b.store.all()).toEqual(a.store.all())
    expect(b.store.all()).toHaveLength(8)
  })

  it('rotation: both secrets sign during the grace period, only the new one after it, on every instance', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const b = await started(topic)
    const { subscription, secret: first } = await a.store.create(input())
    const { secret: second } = await a.store.rotateSecret(subscription.id, 300)
    await waitUntil('B to apply the rotation', () => b.store.get(subscription.id)?.secrets.length === 2)
    for (const { store } of [a, b]) {
      expect(store.get(subscription.id)?.secrets).toEqual([second, first])
      expect(store.forTenant('tenant-a')[0]?.secrets).toEqual([second, first])
      expect(store.revealSecrets(subscription.id)).toEqual([second, first])
    }
    clock += 300_000
    for (const { store } of [a, b]) {
      expect(store.get(subscription.id)?.secrets).toEqual([second])
      expect(store.forTenant('tenant-a')[0]?.secrets).toEqual([second])
      expect(store.revealSecrets(subscription.id)).toEqual([second])
    }
    // A fresh instance reading the same records at the same time agrees.
    const c = await started(topic)
    expect(c.store.get(subscription.id)?.secrets).toEqual([second])
  })

  it('lists one tenant\'s subscriptions only, in creation order, page by page', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const ids: Record<string, string[]> = { 'tenant-a': [], 'tenant-b': [] }
    for (let i = 0; i < 5; i++) {
      for (const tenantId of ['tenant-a', 'tenant-b']) {
        clock += 1000
        ids[tenantId]?.push((await a.store.create(input({ tenantId }))).subscription.id)
      }
    }
    const b = await started(topic)
    for (const { store } of [a, b]) {
      const page1 = store.list({ tenantId: 'tenant-b', limit: 3 })
      const page2 = store.list({ tenantId: 'tenant-b', limit: 3, cursor: page1.nextCursor })
      expect([...page1.items, ...page2.items].map((s) => s.id)).toEqual(ids['tenant-b'])
      expect([...page1.items, ...page2.items].every((s) => s.tenantId === 'tenant-b')).toBe(true)
      expect(page2.nextCursor).toBeUndefined()
      expect(store.list({ limit: 200 }).items).toHaveLength(10)
    }
  })

  it('a tombstone written by anyone deletes the subscription', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const { subscription } = await a.store.create(input())
    const producer = kafka.producer()
    await producer.connect()
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: subscription.id, value: null }] })
    } finally {
      await producer.disconnect()
    }
    await waitUntil('A to apply the tombstone', () => a.store.get(subscription.id) === undefined)
    expect(a.changes.at(-1)).toEqual([subscription.id, undefined])
    const b = await started(topic)
    expect(b.store.all()).toEqual([])
  })

  it('catches up past records the consumer never sees (transaction markers at the end)', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const { subscription } = await a.store.create(input())
    // A client of its own, silent: the first transaction logs coordinator retries as errors.
    const quiet = new Kafka({ brokers: (await testStack()).brokers, clientId: 'test-subscriptions-txn', logLevel: logLevel.NOTHING })
    const producer = quiet.producer({ transactionalId: `test-subs-${topic}`, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      const txn = await producer.transaction()
      await txn.send({ topic, messages: [{ key: 'other', value: null }] })
      await txn.commit()
    } finally {
      await producer.disconnect()
    }
    // The log now ends with a commit marker, which never reaches eachBatch.
    // Without the stall fallback, start() must still resolve.
    const began = Date.now()
    const b = await started(topic, { catchUpStallMs: 60_000 })
    expect(Date.now() - began).toBeLessThan(20_000)
    expect(b.store.get(subscription.id)).toEqual(subscription)
    expect(b.errors).toEqual([])
  })

  it('an unreadable record is reported and skipped; the rest still applies', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const { subscription: good } = await a.store.create(input())
    const producer = kafka.producer()
    await producer.connect()
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: 'broken-1', value: '{"version":1' }, { key: good.id, value: '{"version":99}' }] })
    } finally {
      await producer.disconnect()
    }
    const { subscription: later } = await a.store.create(input())
    const b = await started(topic)
    expect(b.store.get(later.id)).toEqual(later)
    // A bad update leaves the subscription as it was rather than dropping it.
    expect(b.store.get(good.id)).toEqual(good)
    expect(b.store.get('broken-1')).toBeUndefined()
    expect(b.errors.map(([err, context]) => [(err as { code?: string }).code, context.op, context.id])).toEqual([
      ['WHD_ERR_SUBSCRIPTIONS', 'apply', 'broken-1'],
      ['WHD_ERR_SUBSCRIPTIONS', 'apply', good.id]
    ])
  })

  it('encryption key rotation: old records still decrypt and verify, new writes use the new key; a missing key quarantines the endpoint and start() resolves', async () => {
    const topic = newTopic()
    const k1 = { id: 'k1', key: randomBytes(32) }
    const k2 = { id: 'k2', key: randomBytes(32) }
    const a = await started(topic, { cipher: createSecretCipher([k1], 'k1') })
    const { subscription, secret } = await a.store.create(input())
    const { subscription: other } = await a.store.create(input({ tenantId: 'tenant-b' }))
    await a.store.close()

    // One undecryptable record used to stop every new instance; now it quarantines its endpoint only.
    const withoutOldKey = await started(topic, { cipher: createSecretCipher([k2], 'k2') })
    expect(withoutOldKey.store.ready).toBe(true)
    expect(withoutOldKey.store.quarantined).toBe(2)
    expect(withoutOldKey.store.get(subscription.id)).toMatchObject({
      id: subscription.id,
      tenantId: 'tenant-a',
      url: subscription.url,
      enabled: false,
      secrets: [],
      disabledReason: 'quarantined: cannot verify or decrypt: key "k1"',
      quarantined: 'cannot verify or decrypt: key "k1"'
    })
    expect(withoutOldKey.store.revealSecrets(subscription.id)).toEqual([])
    // Tenant scoping holds for quarantined endpoints too.
    expect(withoutOldKey.store.list({ tenantId: 'tenant-b', limit: 10 }).items.map((s) => s.id)).toEqual([other.id])
    expect(withoutOldKey.errors.map(([err, context]) => [(err as { code?: string }).code, recordRefusalReason(err), context.op, context.id])).toEqual([
      ['WHD_ERR_SECRET_KEY', 'undecryptable', 'apply', subscription.id],
      ['WHD_ERR_SECRET_KEY', 'undecryptable', 'apply', other.id]
    ])
    for (const [err] of withoutOldKey.errors) expect((err as Error).message).not.toContain(secret.slice(6))
    // Writes other than a delete are refused: they would store the endpoint without its secrets.
    await expect(withoutOldKey.store.update(subscription.id, { description: 'x' })).rejects.toMatchObject({ code: 'WHD_ERR_QUARANTINE_CONFLICT' })
    await expect(withoutOldKey.store.setEnabled(subscription.id, true)).rejects.toMatchObject({ code: 'WHD_ERR_QUARANTINE_CONFLICT' })
    await withoutOldKey.store.close()

    const rotated = await started(topic, { cipher: createSecretCipher([k2, k1], 'k2') })
    expect(rotated.store.revealSecrets(subscription.id)).toEqual([secret])
    expect(rotated.store.quarantined).toBe(0)
    // Any write re-encrypts and re-signs the record with the current key.
    await rotated.store.update(subscription.id, { description: 're-encrypted' })
    const latest = (await readRawRecords(kafka, topic)).filter((r) => r.key === subscription.id).at(-1)
    const written = JSON.parse(latest?.value?.toString('utf8') ?? '{}')
    expect(written.secrets[0].encrypted.kid).toBe('k2')
    expect(written.mac.kid).toBe('k2')

    const onlyNewKey = await started(topic, { cipher: createSecretCipher([k2], 'k2') })
    expect(onlyNewKey.store.revealSecrets(subscription.id)).toEqual([secret])
    expect(onlyNewKey.store.get(subscription.id)?.description).toBe('re-encrypted')
    expect(onlyNewKey.store.get(subscription.id)?.quarantined).toBeUndefined()
    expect(onlyNewKey.store.get(other.id)?.quarantined).toBe('cannot verify or decrypt: key "k1"')
    expect(onlyNewKey.store.quarantined).toBe(1)
  })

  it('a tampered record (url and tenantId changed, secret ciphertext and MAC kept) written to the topic is refused by running and new instances; the old state stays', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const { subscription } = await a.store.create(input())
    const [original] = await readRawRecords(kafka, topic)
    const tampered = JSON.parse(original?.value?.toString('utf8') ?? '{}') as Record<string, unknown>
    tampered.url = 'https://attacker.example/in'
    tampered.tenantId = 'tenant-evil'
    const producer = kafka.producer()
    await producer.connect()
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: subscription.id, value: JSON.stringify(tampered) }] })
    } finally {
      await producer.disconnect()
    }
    await waitUntil('A to refuse the tampered record', () => a.errors.length > 0)
    const b = await started(topic)
    for (const opened of [a, b]) {
      expect(opened.store.get(subscription.id)).toEqual(subscription)
      expect(opened.store.forTenant('tenant-evil')).toEqual([])
      expect(opened.store.quarantined).toBe(0)
      expect(opened.errors.map(([err, context]) => [(err as { code?: string }).code, recordRefusalReason(err), context.op, context.id])).toEqual([
        ['WHD_ERR_RECORD_INTEGRITY', 'mac-mismatch', 'apply', subscription.id]
      ])
    }
  })

  it('records of the previous version (no MAC) quarantine their endpoint; with acceptUnsignedRecords they apply and are rewritten signed once', async () => {
    const topic = newTopic()
    const a = await started(topic)
    const { subscription, secret } = await a.store.create(input())
    await a.store.close()
    const [signed] = await readRawRecords(kafka, topic)
    const { mac: _mac, ...unsigned } = JSON.parse(signed?.value?.toString('utf8') ?? '{}') as Record<string, unknown>
    const producer = kafka.producer()
    await producer.connect()
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: subscription.id, value: JSON.stringify(unsigned) }] })
    } finally {
      await producer.disconnect()
    }

    const strict = await started(topic)
    expect(strict.store.get(subscription.id)?.quarantined).toBe('unsigned record')
    expect(recordRefusalReason(strict.errors[0]?.[0])).toBe('unsigned')
    await strict.store.close()

    const migrating = await started(topic, { acceptUnsignedRecords: true })
    expect(migrating.store.get(subscription.id)).toEqual(subscription)
    expect(migrating.errors).toEqual([])
    const records = await readRawRecords(kafka, topic)
    expect(records).toHaveLength(3)
    expect(JSON.parse(records[2]?.value?.toString('utf8') ?? '{}').mac.kid).toBe('k1')

    const after = await started(topic)
    expect(after.store.get(subscription.id)).toEqual(subscription)
    expect(after.store.revealSecrets(subscription.id)).toEqual([secret])
    expect(after.store.quarantined).toBe(0)
    // The unsigned record stays in the log until compaction removes it; the signed rewrite after it wins.
    expect(after.errors.map(([err, context]) => [recordRefusalReason(err), context.offset])).toEqual([['unsigned', '1']])
  })

  it('records hold no plaintext secret or client key', async () => {
    const topic = newTopic()
    const a = await started(topic)
    // Real material: the store parses PEM when an endpoint is created.
    const clientKeyPem = FIXTURE_KEY_PEM
    const keyBody = FIXTURE_KEY_PEM.split('\n')[1] ?? ''
    expect(keyBody.length).toBeGreaterThan(40)
    const { subscription, secret: first } = await a.store.create(input({
      tls: { clientCertPem: FIXTURE_CERT_PEM, clientKeyPem }
    }))
    const { secret: second } = await a.store.rotateSecret(subscription.id, 600)
    await a.store.setPaused(subscription.id, true)
    expect(a.store.get(subscription.id)?.tls?.clientKeyPem).toBe(clientKeyPem)

    const records = await readRawRecords(kafka, topic)
    expect(records).toHaveLength(3)
    const bytes = Buffer.concat(records.map((r) => r.value ?? Buffer.alloc(0)))
    for (const needle of [first, second, first.slice('whsec_'.length), second.slice('whsec_'.length), keyBody]) {
      expect(bytes.includes(Buffer.from(needle))).toBe(false)
      // Nor the secret's raw key bytes.
      if (needle.startsWith('whsec_')) expect(bytes.includes(Buffer.from(needle.slice(6), 'base64'))).toBe(false)
    }
    // The records do carry the subscription: the search above looked at the right bytes.
    expect(bytes.includes(Buffer.from(subscription.id))).toBe(true)
    expect(records.every((r) => r.key === subscription.id)).toBe(true)
  })
})
