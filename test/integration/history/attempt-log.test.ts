// The attempts-topic writer on a real broker: it batches records for a
// linger (so a busy writer sends few, large requests), sends a full chunk at
// once, and a flush — what every offset commit waits for — sends what is
// queued without waiting out the linger. Records arrive in order, keyed by
// event id, in the Confluent wire format.
import { randomUUID } from 'node:crypto'
import type { Producer } from 'kafkajs'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttemptEntry } from '../../../services/dispatcher/src/engine/attempt-log.js'
import { attemptType } from '../../../services/dispatcher/src/history/attempt-codec.js'
import { KafkaAttemptLog } from '../../../services/dispatcher/src/kafka/attempt-log.js'
import { JavaCompatiblePartitioner } from '../../../services/events/src/index.js'
import { createTestTopics, testKafka, uniqueTopic } from '../../support/kafka.js'
import { scaled, waitUntil } from '../../support/wait.js'

const SCHEMA_ID = 7
const HOUR = 3_600_000

function entry (i: number): AttemptEntry {
  return {
    attemptId: randomUUID(), eventId: `evt-${i}`, eventType: 'transaction.posted', tenantId: 'tenant-a', subscriptionId: 'sub-a', accountId: `acc-${i % 5}`,
    occurredAt: 1_700_000_000_000, sourceTopic: 'core.transactions', sourcePartition: 0, sourceOffset: BigInt(i), attemptNumber: 1,
    lane: 'source', kind: 'attempt', outcome: 'delivered', startedAt: 1_700_000_000_100 + i, durationMs: 3, httpStatus: 204
  }
}

describe('the attempts-topic writer', () => {
  let producer: Producer
  let cleanup: () => Promise<void>
  const logs: KafkaAttemptLog[] = []

  beforeAll(async () => {
    const kafka = await testKafka('attempt-log-test')
    producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner })
    await producer.connect()
  })

  afterAll(async () => {
    for (const log of logs) log.close()
    await producer?.disconnect()
    await cleanup?.()
  })

  async function writer (o: { chunk: number, lingerMs: number }): Promise<{ log: KafkaAttemptLog, topic: string, acked: number[] }> {
    const topic = uniqueTopic('attempts')
    const topics = await createTestTopics([{ topic, numPartitions: 3 }])
    const previous = cleanup
    cleanup = async () => { await previous?.(); await topics.cleanup() }
    const acked: number[] = []
    const log = new KafkaAttemptLog({
      producer, topic, compression: 0, schemaId: SCHEMA_ID, log: pino({ level: 'silent' }), ...o,
      metrics: { historyRecords: { inc: () => {} }, historyWriteFailures: { inc: () => {} } },
      onAcknowledged: (count) => { acked.push(count) }
    })
    logs.push(log)
    return { log, topic, acked }
  }

  it('sends what is queued when a flush asks, without waiting out the linger', async () => {
    const { log, acked } = await writer({ chunk: 1000, lingerMs: HOUR })
    for (let i = 0; i < 5; i++) log.record(entry(i))
    expect(log.pending).toBe(5)
    await log.flush()
    expect(log.pending).toBe(0)
    expect(acked).toEqual([5])
  }, scaled(30_000))

  it('sends a full chunk at once, and lingers with what is left', async () => {
    const { log, acked } = await writer({ chunk: 10, lingerMs: HOUR })
    for (let i = 0; i < 13; i++) log.record(entry(i))
    await waitUntil('the full chunk acknowledged', () => acked.length > 0, { timeoutMs: 20_000 })
    expect(acked).toEqual([10])
    expect(log.pending).toBe(3)
    await log.flush()
    expect(acked).toEqual([10, 3])
  }, scaled(30_000))

  it('sends a partial chunk once the linger is out, every record in order and keyed by its event', async () => {
    const { log, topic, acked } = await writer({ chunk: 1000, lingerMs: 200 })
    for (let i = 0; i < 20; i++) log.record(entry(i))
    await waitUntil('the lingering records acknowledged', () => log.pending === 0, { timeoutMs: 20_000 })
    expect(acked.reduce((a, b) => a + b, 0)).toBe(20)

    const kafka = await testKafka('attempt-log-reader')
    const consumer = kafka.consumer({ groupId: `attempt-log-${randomUUID()}` })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const read: Array<{ key: string, eventId: string, partition: number, schemaId: number }> = []
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value as Buffer
        read.push({ key: String(message.key), eventId: (attemptType().fromBuffer(value.subarray(5)) as { eventId: string }).eventId, partition, schemaId: value.readInt32BE(1) })
      }
    })
    await waitUntil('all 20 records read', () => read.length >= 20, { timeoutMs: 30_000 })
    await consumer.disconnect()
    expect(read.every((r) => r.key === r.eventId && r.schemaId === SCHEMA_ID)).toBe(true)
    // Per partition, in the order they were recorded.
    for (const p of [0, 1, 2]) {
      const ids = read.filter((r) => r.partition === p).map((r) => Number(r.eventId.slice(4)))
      expect(ids).toEqual([...ids].sort((a, b) => a - b))
    }
    expect(new Set(read.map((r) => r.eventId)).size).toBe(20)
  }, scaled(60_000))
})
