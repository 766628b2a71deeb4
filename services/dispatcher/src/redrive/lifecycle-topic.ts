// The dead-letter state topic on Kafka (dead-letters/lifecycle.ts says what
// it holds): read to its end, letters' states and redrive locks written.
import type { Admin, CompressionTypes, Kafka, Producer } from 'kafkajs'
import { decodeStateRecord, encodeLifecycle, encodeLock, foldStateRecords, STATE_TOPIC_CONFIG, type LetterLifecycle, type LifecycleView, type RedriveLock, type StateRecord } from '../dead-letters/lifecycle.js'
import { retryRetriable } from '../retriable.js'
import { scanToEnd } from './scan-to-end.js'

/** Creates the state topic when it is missing (compacted, one partition: one order for locks). */
export async function ensureStateTopic (admin: Admin, topic: string, replicationFactor = -1): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return
  await retryRetriable(async () => await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor, configEntries: STATE_TOPIC_CONFIG.map((entry) => ({ ...entry })) }],
    waitForLeaders: true
  }))
}

/** The state topic read from its start to the end it has now. */
export async function readLifecycle (kafka: Kafka, topic: string): Promise<LifecycleView> {
  const records: StateRecord[] = []
  await scanToEnd(kafka, [topic], (_topic, _partition, message) => {
    const record = decodeStateRecord(message.key, message.value)
    if (record !== undefined) records.push(record)
    return undefined
  }, 'whd-dead-letter-state')
  return foldStateRecords(records)
}

/** Writes state records (acks=all) on the state topic's one partition, in the order given. */
export async function writeLifecycle (producer: Producer, topic: string, compression: CompressionTypes | undefined, entries: ReadonlyArray<{ id: string, record: LetterLifecycle }>): Promise<void> {
  if (entries.length === 0) return
  await producer.send({ topic, acks: -1, compression, messages: entries.map(({ id, record }) => ({ ...encodeLifecycle(id, record), partition: 0 })) })
}

/** Writes (or, with `lock` undefined, deletes) a redrive's lock. */
export async function writeLock (producer: Producer, topic: string, redriveId: string, lock: RedriveLock | undefined): Promise<void> {
  await producer.send({ topic, acks: -1, messages: [{ ...encodeLock(lock, redriveId), partition: 0 }] })
}
