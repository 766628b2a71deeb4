// Exits 0 when the broker at argv[2] answers a metadata request, 1 otherwise.
import { Kafka, logLevel } from 'kafkajs'

const broker = process.argv[2] ?? '127.0.0.1:19092'
const kafka = new Kafka({ brokers: [broker], clientId: 'stack-health', logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000, requestTimeout: 3000 })
const admin = kafka.admin()
try {
  await admin.connect()
  await admin.fetchTopicMetadata({ topics: [] })
  await admin.disconnect()
  process.exit(0)
} catch {
  process.exit(1)
}
