// Wires the delivery history (DESIGN §10): the attempts topic and its
// schema, the writer the engine records into, the index store, its indexer,
// and the payload reader of the admin API. No logic lives here.
import type { Admin, Kafka, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { ensureSchema, kafkaCompressionType } from '../../../events/src/index.js'
import type { DispatcherConfig } from '../config.js'
import { toWebhookBody } from '../delivery/payload.js'
import type { RecordDecoder } from '../engine/record-plan.js'
import { attemptSchemaString } from '../history/attempt-codec.js'
import { openPostgresDriver } from '../history/postgres-driver.js'
import { openSqlHistoryStore } from '../history/sql-store.js'
import { openSqliteDriver } from '../history/sqlite-driver.js'
import type { HistoryStore } from '../history/store.js'
import type { ReadEventPayload } from '../http/admin/types.js'
import { KafkaAttemptLog } from '../kafka/attempt-log.js'
import { ensureAttemptsTopic } from '../kafka/history-topic.js'
import { HistoryIndexer } from '../kafka/history-indexer.js'
import { readRecordAt } from '../kafka/record-reader.js'
import type { Metrics } from '../metrics.js'

export interface History {
  /** The engine's recorder; undefined with HISTORY_ENABLED=false. */
  log: KafkaAttemptLog | undefined
  /** The admin API's view; undefined with HISTORY_STORE=none. */
  api: { store: HistoryStore, readPayload: ReadEventPayload } | undefined
  /** Starts indexing (after the dispatcher started). */
  start: () => Promise<void>
  /** Closes the indexer and the store; then the writer, once the dispatcher's last commit has flushed it. */
  close: () => Promise<void>
}

export async function setUpHistory (o: { config: Readonly<DispatcherConfig>, kafka: Kafka, admin: Admin, decode: RecordDecoder, metrics: Metrics, log: Logger }): Promise<History> {
  const { config, kafka, metrics, log } = o
  if (!config.historyEnabled) return { log: undefined, api: undefined, start: async () => {}, close: async () => {} }
  const created = await ensureAttemptsTopic(o.admin, { topic: config.historyTopic, partitions: config.historyTopicPartitions, retentionHours: config.historyTopicRetentionHours, replicationFactor: config.topicReplicationFactor })
  const { id: schemaId } = await ensureSchema({ url: config.schemaRegistryUrl }, `${config.historyTopic}-value`, attemptSchemaString(), { compatibility: 'BACKWARD' })
  log.info({ topic: config.historyTopic, created, schemaId }, 'attempts topic ready')
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const attemptLog = new KafkaAttemptLog({ producer, topic: config.historyTopic, compression: kafkaCompressionType(config.kafkaCompression), schemaId, metrics, log })

  let store: HistoryStore | undefined
  let indexer: HistoryIndexer | undefined
  if (config.historyStore !== 'none') {
    const driver = config.historyStore === 'sqlite' ? openSqliteDriver(config.historySqlitePath) : openPostgresDriver(config.historyPostgresUrl as string)
    store = await openSqlHistoryStore(driver)
    indexer = new HistoryIndexer({
      kafka,
      topic: config.historyTopic,
      store,
      groupIdPrefix: config.consumerGroupId,
      registryUrl: config.schemaRegistryUrl,
      retentionMs: config.historyRetentionDays * 86_400_000,
      metrics,
      log
    })
  }
  const readPayload: ReadEventPayload = async (eventId, source) => {
    const read = await readRecordAt(kafka, source.topic, source.partition, source.offset)
    if (read.kind === 'gone') return read
    const event = await o.decode(read.value).catch(() => undefined)
    // The offset holds another event only if the topic was re-created.
    if (event?.eventId !== eventId) return { kind: 'gone' }
    return { kind: 'found', body: toWebhookBody(event) }
  }
  return {
    log: attemptLog,
    api: store === undefined ? undefined : { store, readPayload },
    start: async () => { await indexer?.start() },
    close: async () => {
      await indexer?.close()
      await store?.close()
      attemptLog.close()
      await producer.disconnect()
    }
  }
}
