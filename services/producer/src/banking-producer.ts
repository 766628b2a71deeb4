/**
 * The producer library core banking uses: typed publish functions that
 * validate, encode (Confluent wire format) and write with the account id as
 * key, so Kafka keeps each account's events in one partition and in order.
 * By default every family goes to one topic (`banking.account-events.v1`),
 * each under its own subject (TopicRecordNameStrategy), so that order holds
 * across families too.
 *
 * Delivery settings: idempotent producer, acks=all (-1), one request in
 * flight per broker (kafkajs's idempotent producer tracks one sequence per
 * partition and would reorder on retry with more), Java's murmur2
 * placement. Order per account holds across calls when each call is awaited
 * before the next one for that account.
 */
import type { Kafka, Message, Producer, ProducerConfig, RecordMetadata } from 'kafkajs'
import {
  DEFAULT_KAFKA_COMPRESSION, encodeBody, EventValidationError, JavaCompatiblePartitioner, kafkaCompressionType, registerKafkaCodecs, type CompressionName, familyOfEventType, frameWire, sourceLayout, validateEvent,
  type AccountStatusEvent, type BankingEvent, type FamilyName, type FraudAlertEvent, type SchemaResolver, type SourceLayout, type TransactionEvent
} from '../../events/src/index.js'
import { ProducerNotConnectedError, TopicMissingError } from './errors.js'

export interface BankingProducerOptions {
  kafka: Kafka
  /** Schema ids per family (an EventRegistry). */
  registry: SchemaResolver
  /**
   * The one topic every family goes to, each family under its own subject
   * `<topic>-<record full name>` (TopicRecordNameStrategy). One account's
   * events of all families then stay in order. Ignored when `topics` is set.
   * @defaultValue `banking.account-events.v1`
   */
  topic?: string
  /**
   * Topic per family instead (the three-topic layout; families not named
   * go to their own `banking.*.v1` topics). A topic of one family keeps
   * subject `<topic>-value`. Kafka orders only within a topic: with
   * families on different topics, an account's events are in order per
   * family only.
   */
  topics?: Partial<Record<FamilyName, string>>
  /**
   * Further kafkajs producer settings. Idempotence, in-flight limit and
   * partitioner are fixed by this library.
   */
  producerConfig?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'createPartitioner'>
  /**
   * Broker-side wait for acknowledgement from all in-sync replicas.
   * @defaultValue 30000
   */
  ackTimeoutMs?: number
  /**
   * Events per produce request in publishMany; larger inputs are sent in
   * several requests, in order.
   * @defaultValue 1000
   */
  maxBatchSize?: number
  /**
   * Codec of the record batches it writes: none, gzip, snappy, lz4 or zstd
   * (all pure JavaScript or Node's own zlib; every Kafka client ≥ 2.1 reads them).
   * @defaultValue `zstd` ({@link DEFAULT_KAFKA_COMPRESSION})
   */
  compression?: CompressionName
}

export interface PublishResult {
  family: FamilyName
  topic: string
  partition: number
  /** Kafka offset, a decimal string as kafkajs gives offsets. */
  offset: string
  eventId: string
  accountId: string
}

export interface BankingProducer {
  readonly topics: Readonly<Record<FamilyName, string>>
  /** Topics, subject strategies and subjects per family. */
  readonly layout: SourceLayout
  /** Connects, checks the topics exist and resolves the schema ids. */
  connect: () => Promise<void>
  publishTransaction: (event: TransactionEvent) => Promise<PublishResult>
  publishAccountStatus: (event: AccountStatusEvent) => Promise<PublishResult>
  publishFraudAlert: (event: FraudAlertEvent) => Promise<PublishResult>
  /**
   * Publishes events of any family, in order. Every event is validated
   * first: if one is invalid, EventValidationError is thrown and nothing is
   * written. Results are in input order.
   */
  publishMany: (events: readonly BankingEvent[]) => Promise<PublishResult[]>
  /** Waits for in-flight sends, then disconnects. Safe to call twice. */
  disconnect: () => Promise<void>
}

interface Prepared {
  family: FamilyName
  topic: string
  event: BankingEvent
  message: Message
}

export function createBankingProducer (options: BankingProducerOptions): BankingProducer {
  const { kafka, registry } = options
  const layout = sourceLayout({
    ...(options.topic === undefined ? {} : { topic: options.topic }),
    ...(options.topics === undefined ? {} : { topics: options.topics })
  })
  const { topics } = layout
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000
  const maxBatchSize = options.maxBatchSize ?? 1000
  const compression = kafkaCompressionType(options.compression ?? DEFAULT_KAFKA_COMPRESSION)
  // kafkajs itself writes only gzip.
  registerKafkaCodecs()
  // The partitioner records where each message went, so publishMany can
  // give every event its own offset (base offset of its partition's batch
  // plus its rank within that batch).
  const placed = new WeakMap<Message, number>()
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    ...options.producerConfig,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: () => {
      const partition = JavaCompatiblePartitioner()
      return (args) => {
        const chosen = partition(args)
        placed.set(args.message, chosen)
        return chosen
      }
    }
  })
  let state: 'new' | 'connecting' | 'connected' | 'closing' | 'closed' = 'new'
  let connecting: Promise<void> | undefined
  let closing: Promise<void> | undefined
  const inFlight = new Set<Promise<unknown>>()

  async function checkTopics (): Promise<void> {
    const admin = kafka.admin()
    await admin.connect()
    try {
      const existing = new Set(await admin.listTopics())
      const missing = [...new Set(Object.values(topics))].filter((topic) => !existing.has(topic))
      if (missing.length > 0) throw new TopicMissingError(missing)
    } finally {
      await admin.disconnect()
    }
  }

  function prepare (events: readonly BankingEvent[], expected?: FamilyName): Array<Omit<Prepared, 'message'>> {
    return events.map((event) => {
      const family = expected ?? familyOfEventType(String((event as { eventType?: unknown }).eventType))
      if (family === undefined) {
        throw new EventValidationError([{ field: 'eventType', message: `is not an event type of any family, got ${JSON.stringify((event as { eventType?: unknown }).eventType)}` }])
      }
      validateEvent(family, event)
      return { family, topic: topics[family], event }
    })
  }

  async function send (batch: Prepared[]): Promise<PublishResult[]> {
    const byTopic = new Map<string, Message[]>()
    for (const { topic, message } of batch) {
      const messages = byTopic.get(topic) ?? []
      messages.push(message)
      byTopic.set(topic, messages)
    }
    const metadata: RecordMetadata[] = await producer.sendBatch({
      acks: -1,
      timeout: ackTimeoutMs,
      compression,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages }))
    })
    const baseOffsets = new Map(metadata.map((entry) => [`${entry.topicName}:${entry.partition}`, BigInt(entry.baseOffset ?? entry.offset ?? '-1')]))
    const ranks = new Map<string, bigint>()
    return batch.map(({ family, topic, event, message }) => {
      const partition = placed.get(message)
      const key = `${topic}:${partition}`
      const base = baseOffsets.get(key)
      if (partition === undefined || base === undefined || base < 0n) {
        throw new Error(`kafkajs acknowledged no offset for ${key}; cannot report where event ${event.eventId} was written`)
      }
      const rank = ranks.get(key) ?? 0n
      ranks.set(key, rank + 1n)
      return { family, topic, partition, offset: (base + rank).toString(), eventId: event.eventId, accountId: event.accountId }
    })
  }

  async function publish (events: readonly BankingEvent[], expected?: FamilyName): Promise<PublishResult[]> {
    if (state !== 'connected') throw new ProducerNotConnectedError(state)
    const checked = prepare(events, expected)
    const prepared: Prepared[] = []
    for (const item of checked) {
      const schemaId = await registry.schemaId(item.family, item.topic, layout.strategies[item.family])
      const value = frameWire(schemaId, encodeBody(item.family, item.event))
      prepared.push({ ...item, message: { key: item.event.accountId, value } })
    }
    const results: PublishResult[] = []
    for (let start = 0; start < prepared.length; start += maxBatchSize) {
      results.push(...await send(prepared.slice(start, start + maxBatchSize)))
    }
    return results
  }

  function track<T> (work: Promise<T>): Promise<T> {
    inFlight.add(work)
    void work.finally(() => inFlight.delete(work)).catch(() => {})
    return work
  }

  async function publishOne (family: FamilyName, event: BankingEvent): Promise<PublishResult> {
    const [result] = await track(publish([event], family))
    return result as PublishResult
  }

  return {
    topics,
    layout,
    connect () {
      connecting ??= (async () => {
        state = 'connecting'
        try {
          await checkTopics()
          await producer.connect()
          for (const family of Object.keys(topics) as FamilyName[]) await registry.schemaId(family, topics[family], layout.strategies[family])
          state = 'connected'
        } catch (err) {
          state = 'new'
          connecting = undefined
          await producer.disconnect().catch(() => {})
          throw err
        }
      })()
      return connecting
    },
    publishTransaction: async (event) => await publishOne('transactions', event),
    publishAccountStatus: async (event) => await publishOne('accounts', event),
    publishFraudAlert: async (event) => await publishOne('fraud', event),
    publishMany: async (events) => await track(publish(events)),
    disconnect () {
      closing ??= (async () => {
        state = 'closing'
        await Promise.allSettled([...inFlight])
        try {
          await producer.disconnect()
        } finally {
          state = 'closed'
        }
      })()
      return closing
    }
  }
}

