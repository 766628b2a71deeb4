import { randomUUID } from 'node:crypto'
import { Kafka, logLevel, type Admin } from 'kafkajs'
import { registerKafkaCodecs } from '../../services/events/src/index.js'
import { retryRetriable } from '../../services/dispatcher/src/retriable.js'
import { testStack } from './stack.js'

/** A topic name no other test uses. */
export function uniqueTopic (prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`
}

/**
 * A kafkajs client for the test stack, quiet unless something is wrong;
 * `brokers` points it at another cluster (a private broker, say).
 */
export async function testKafka (clientId = 'test', brokers?: string[]): Promise<Kafka> {
  brokers ??= (await testStack()).brokers
  // The dispatcher writes compressed batches (KAFKA_COMPRESSION) that tests read back.
  registerKafkaCodecs()
  return new Kafka({ brokers, clientId, logLevel: logLevel.ERROR })
}

/**
 * Creates topics for one test and returns a cleanup function that deletes
 * them. Waits for leaders so producers can write at once.
 */
export async function createTestTopics (
  topics: Array<{ topic: string, numPartitions?: number }>,
  { brokers }: { brokers?: string[] } = {}
): Promise<{ admin: Admin, cleanup: () => Promise<void> }> {
  const kafka = await testKafka('test-admin', brokers)
  const admin = kafka.admin()
  await admin.connect()
  // A fresh broker can answer UNKNOWN_TOPIC_OR_PARTITION while kafkajs waits
  // for the new topics' leaders; a second try finds them created.
  await retryRetriable(() => admin.createTopics({
    waitForLeaders: true,
    topics: topics.map(({ topic, numPartitions = 1 }) => ({ topic, numPartitions, replicationFactor: 1 }))
  }))
  await retryRetriable(() => admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) }))
  return {
    admin,
    cleanup: async () => {
      try {
        await admin.deleteTopics({ topics: topics.map((t) => t.topic) })
      } finally {
        await admin.disconnect()
      }
    }
  }
}
