// Exits 0 when every topic named in argv exists on KAFKA_BROKERS, 1 otherwise.
import { Kafka, logLevel } from 'kafkajs'

// kafkajs 2.2.4 arms a negative setTimeout (harmless; see services/events/src/kafkajs-warnings.ts).
process.removeAllListeners('warning')
process.on('warning', (warning) => { if (warning.name !== 'TimeoutNegativeWarning') console.error(warning) })

const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','), clientId: 'dev-topics', logLevel: logLevel.NOTHING, retry: { retries: 0 } })
const admin = kafka.admin()
try {
  await admin.connect()
  const existing = new Set(await admin.listTopics())
  await admin.disconnect()
  process.exit(process.argv.slice(2).every((t) => existing.has(t)) ? 0 : 1)
} catch {
  process.exit(1)
}
