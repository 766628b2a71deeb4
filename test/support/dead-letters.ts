import { randomUUID } from 'node:crypto'
import type { IHeaders } from 'kafkajs'
import { testKafka } from './kafka.js'

export interface DeadLetterView {
  partition: number
  offset: bigint
  key: string | null
  value: Buffer | null
  headers: Record<string, string>
}

function textHeaders (headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first)
  }
  return out
}

/** Reads every record of a topic, from the beginning to its current end. */
export async function readTopic (topic: string): Promise<DeadLetterView[]> {
  const kafka = await testKafka('test-reader')
  const admin = kafka.admin()
  await admin.connect()
  const ends = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const remaining = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]))
  if (remaining.size === 0) return []
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const records: DeadLetterView[] = []
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({ partition, offset: BigInt(message.offset), key: message.key?.toString() ?? null, value: message.value, headers: textHeaders(message.headers) })
        const end = remaining.get(partition)
        if (end !== undefined && BigInt(message.offset) + 1n >= end) remaining.delete(partition)
        if (remaining.size === 0) resolve()
      }
    })
  })
  await consumer.disconnect()
  return records
}
