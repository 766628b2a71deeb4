// The history indexer on a real broker and registry: the records of a batch
// that wait for the same unknown writer schema share one registry request,
// instead of each sending its own (a fresh indexer meeting a backlog sent one
// request per record until the first answer came back).
import { randomUUID } from 'node:crypto'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import type { AttemptEntry } from '../../../services/dispatcher/src/engine/attempt-log.js'
import { attemptSchemaString } from '../../../services/dispatcher/src/history/attempt-codec.js'
import { openSqlHistoryStore } from '../../../services/dispatcher/src/history/sql-store.js'
import { openSqliteDriver } from '../../../services/dispatcher/src/history/sqlite-driver.js'
import { KafkaAttemptLog } from '../../../services/dispatcher/src/kafka/attempt-log.js'
import { HistoryIndexer } from '../../../services/dispatcher/src/kafka/history-indexer.js'
import { createMetrics } from '../../../services/dispatcher/src/metrics.js'
import { ensureSchema, JavaCompatiblePartitioner } from '../../../services/events/src/index.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'
import { scaled, waitUntil } from '../../support/wait.js'

const RECORDS = 500

function entry (i: number): AttemptEntry {
  return {
    attemptId: randomUUID(), eventId: `evt-${i}`, eventType: 'transaction.posted', tenantId: 'tenant-a', subscriptionId: 'sub-a', accountId: `acc-${i % 5}`,
    occurredAt: 1_700_000_000_000, sourceTopic: 'core.transactions', sourcePartition: 0, sourceOffset: BigInt(i), attemptNumber: 1,
    lane: 'source', kind: 'attempt', outcome: 'delivered', startedAt: Date.now(), durationMs: 3, httpStatus: 204
  }
}

/** A pass-through in front of the registry that counts the schema-by-id requests. */
async function countingRegistry (target: URL): Promise<{ url: string, lookups: () => number, close: () => Promise<void> }> {
  let lookups = 0
  const server: Server = createServer((req, res) => {
    if (/\/schemas\/ids\/\d+/.test(req.url ?? '')) lookups++
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    lookups: () => lookups,
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

describe('the history indexer', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  })

  it('asks the registry once for a writer schema a whole backlog waits for', async () => {
    const { registryUrl } = await testStack()
    const kafka = await testKafka('indexer-lookup-test')
    const topic = uniqueTopic('attempts')
    const topics = await createTestTopics([{ topic, numPartitions: 3 }])
    cleanups.push(topics.cleanup)
    const { id: schemaId } = await ensureSchema({ url: registryUrl }, `${topic}-value`, attemptSchemaString())

    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner })
    await producer.connect()
    cleanups.push(async () => { await producer.disconnect() })
    const writer = new KafkaAttemptLog({
      producer, topic, compression: 0, schemaId, log: pino({ level: 'silent' }), chunk: 1000, lingerMs: 60_000,
      metrics: { historyRecords: { inc: () => {} }, historyWriteFailures: { inc: () => {} } },
      onAcknowledged: () => {}
    })
    cleanups.push(async () => { writer.close() })
    for (let i = 0; i < RECORDS; i++) writer.record(entry(i))
    await writer.flush()

    const registry = await countingRegistry(new URL(registryUrl))
    cleanups.push(registry.close)
    const dir = await mkdtemp(join(tmpdir(), 'whd-indexer-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const store = await openSqlHistoryStore(openSqliteDriver(join(dir, 'history.sqlite')))
    const indexer = new HistoryIndexer({
      kafka, topic, store, groupIdPrefix: `indexer-lookup-${randomUUID().slice(0, 8)}`, registryUrl: registry.url,
      retentionMs: 86_400_000, metrics: createMetrics(), log: pino({ level: 'silent' })
    })
    cleanups.push(async () => { await store.close() })
    cleanups.push(async () => { await indexer.close() })
    await indexer.start()

    await waitUntil('every attempt indexed', async () => await store.count() === RECORDS, { timeoutMs: 60_000, intervalMs: 100 })
    expect(registry.lookups()).toBe(1)
  }, scaled(120_000))
})
