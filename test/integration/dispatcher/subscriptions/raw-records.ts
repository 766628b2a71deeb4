import { randomUUID } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { waitUntil } from '../../../support/wait.js'

export interface RawRecord {
  key: string | undefined
  value: Buffer | null
  offset: string
}

/** Every record of a one-partition topic, as bytes, read with a consumer that commits nothing. */
export async function readRawRecords (kafka: Kafka, topic: string): Promise<RawRecord[]> {
  const admin = kafka.admin()
  await admin.connect()
  const groupId = `test-raw-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 })
  const records: RawRecord[] = []
  try {
    const [partition] = await admin.fetchTopicOffsets(topic)
    const end = Number(partition?.high ?? 0)
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        records.push({ key: message.key?.toString('utf8'), value: message.value, offset: message.offset })
      }
    })
    await waitUntil(`all ${end} records of ${topic}`, () => records.length > 0 && Number(records.at(-1)?.offset) + 1 >= end)
    return records
  } finally {
    await consumer.disconnect()
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect()
  }
}
