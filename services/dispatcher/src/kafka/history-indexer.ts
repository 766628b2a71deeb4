import avro from 'avsc'
import type { Type } from 'avsc'
import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { attemptSchemaString, attemptType, attemptWireHeader, decodeAttempt } from '../history/attempt-codec.js'
import { JoinedInserts } from '../history/joined-inserts.js'
import { keptLookups } from '../../../events/src/index.js'
import type { HistoryStore, IndexedAttempt } from '../history/store.js'

/** What the indexer measures (the Prometheus metrics, or the history thread's forwarder). */
export interface HistoryIndexerMetrics {
  historyIndexed: { inc: (value?: number) => void }
  historyIndexerLag: { set: (value: number) => void }
  historyIndexRows: { set: (value: number) => void }
  historyPruned: { inc: (value?: number) => void }
}
import { retryRetriable } from '../retriable.js'

// A fetch waits until this many bytes of records are there (about 4,000
// attempts, zstd) or FETCH_WAIT_MS have passed. Each transaction's commit
// writes out every page it touched; fetches answered as soon as one produce
// request landed made 3.6 times as many transactions, and the indexer spent
// 30 % more CPU per record. The index follows the topic by up to
// FETCH_WAIT_MS more.
const FETCH_MIN_BYTES = 256 * 1024
const FETCH_WAIT_MS = 500
// Batches of one fetch handled side by side, their rows written in one
// transaction (JoinedInserts). More than a topic's partitions is harmless.
const PARTITIONS_AT_ONCE = 16

export interface HistoryIndexerOptions {
  kafka: Kafka
  topic: string
  store: HistoryStore
  /** KAFKA_GROUP_ID: the indexer's group is `<group>-history-<store id>`. */
  groupIdPrefix: string
  /** Confluent-compatible registry base URL, for the writer schema of each record. */
  registryUrl: string
  retentionMs: number
  metrics: HistoryIndexerMetrics
  log: Logger
  now?: () => number
  /** How often rows past retention are deleted. @defaultValue 600000 */
  pruneIntervalMs?: number
}

/**
 * Materialises the attempts topic into the history store. Its consumer
 * group is named after the store's id, which a new (or deleted and re-made)
 * store gets afresh: such a store is rebuilt from the start of the topic,
 * while instances sharing one PostgreSQL store share one group and split the
 * partitions. Offsets are committed after the rows are written, and a row
 * written twice is ignored, so nothing is lost or counted twice.
 */
export class HistoryIndexer {
  readonly #o: HistoryIndexerOptions
  /** Writer schemas by id; a batch's records that wait for the same one share one request. */
  readonly #writers = keptLookups(async (schemaId: number) => await this.#lookUp(schemaId))
  readonly #lag = new Map<number, number>()
  #consumer: Consumer | undefined
  #pruneTimer: NodeJS.Timeout | undefined

  constructor (o: HistoryIndexerOptions) {
    this.#o = o
  }

  async start (): Promise<void> {
    const { kafka, topic, store, log } = this.#o
    const groupId = `${this.#o.groupIdPrefix}-history-${await store.storeId()}`
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, minBytes: FETCH_MIN_BYTES, maxWaitTimeInMs: FETCH_WAIT_MS })
    this.#consumer = consumer
    await consumer.connect()
    await retryRetriable(() => consumer.subscribe({ topics: [topic], fromBeginning: true }))
    const inserts = new JoinedInserts(store, (added) => { this.#o.metrics.historyIndexed.inc(added) })
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        const entries: IndexedAttempt[] = []
        for (const message of batch.messages) {
          const decoded = this.#decode(message.value, batch.partition, BigInt(message.offset))
          // A promise only when the writer schema is not known yet: one per schema.
          const entry = decoded instanceof Promise ? await decoded : decoded
          if (entry !== undefined) entries.push(entry)
        }
        await inserts.insert(entries)
        const last = batch.messages.at(-1)
        if (last !== undefined) resolveOffset(last.offset)
        this.#lag.set(batch.partition, Number(batch.offsetLag()))
        this.#o.metrics.historyIndexerLag.set([...this.#lag.values()].reduce((a, b) => a + b, 0))
        await commitOffsetsIfNecessary()
        await heartbeat()
      }
    })
    log.info({ topic, groupId, store: store.kind }, 'history indexer started')
    await this.#prune()
    this.#pruneTimer = setInterval(() => { void this.#prune() }, this.#o.pruneIntervalMs ?? 600_000)
  }

  async close (): Promise<void> {
    clearInterval(this.#pruneTimer)
    await this.#consumer?.disconnect().catch((err: unknown) => this.#o.log.warn({ err }, 'history indexer disconnect failed'))
  }

  async #prune (): Promise<void> {
    const { store, metrics, log } = this.#o
    try {
      const pruned = await store.prune((this.#o.now ?? Date.now)() - this.#o.retentionMs)
      metrics.historyPruned.inc(pruned)
      metrics.historyIndexRows.set(await store.count())
      if (pruned > 0) log.info({ pruned }, 'history rows past retention deleted')
    } catch (err) {
      log.warn({ err }, 'history pruning failed; next round retries')
    }
  }

  // A record that is not an attempt (another writer on the topic, corrupt
  // Avro) is logged and passed over: the history is a log, and one bad record
  // must not stop the rest. A registry that cannot be reached throws: the
  // batch is read again (kafkajs restarts the consumer), nothing is passed over.
  #decode (value: Buffer | null, partition: number, offset: bigint): IndexedAttempt | undefined | Promise<IndexedAttempt | undefined> {
    const skip = (err: unknown): undefined => {
      this.#o.log.warn({ err, topic: this.#o.topic, partition, offset: offset.toString() }, 'attempts-topic record not indexed: not a delivery attempt this dispatcher can read')
      return undefined
    }
    let wire: { schemaId: number, payload: Buffer }
    try {
      wire = attemptWireHeader(value)
    } catch (err) {
      return skip(err)
    }
    const decodeWith = (writer: Type | undefined): IndexedAttempt | undefined => {
      if (writer === undefined) return skip(new Error(`the registry has no schema id ${wire.schemaId}`))
      try {
        return { ...decodeAttempt(wire.payload, writer), logPartition: partition, logOffset: offset }
      } catch (err) {
        return skip(err)
      }
    }
    const known = this.#writers.known(wire.schemaId)
    return known !== undefined ? decodeWith(known) : this.#writers.get(wire.schemaId).then(decodeWith)
  }

  async #lookUp (schemaId: number): Promise<Type | undefined> {
    const response = await fetch(`${this.#o.registryUrl}/schemas/ids/${schemaId}`, { signal: AbortSignal.timeout(10_000) })
    if (response.status === 404) return undefined
    if (!response.ok) throw new Error(`registry answered ${response.status} for schema id ${schemaId}`)
    const { schema } = await response.json() as { schema: string }
    try {
      return schema === attemptSchemaString() ? attemptType() : avro.Type.forSchema(JSON.parse(schema) as avro.Schema)
    } catch {
      return undefined
    }
  }
}
