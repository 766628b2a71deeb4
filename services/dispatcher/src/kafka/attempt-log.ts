import type { CompressionTypes, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import type { AttemptEntry, AttemptRecorder } from '../engine/attempt-log.js'
import { Acknowledgements } from '../history/acknowledgements.js'
import { encodeAttempt } from '../history/attempt-codec.js'

/** What the writer counts (the Prometheus counters, or the history thread's forwarder). */
export interface HistoryWriterMetrics {
  historyRecords: { inc: (labels: { outcome: string }, value?: number) => void }
  historyWriteFailures: { inc: () => void }
}

export interface KafkaAttemptLogOptions {
  producer: Producer
  topic: string
  compression: CompressionTypes
  /** Registry id of schemas/delivery-attempt.avsc under `<topic>-value`. */
  schemaId: number
  metrics: HistoryWriterMetrics
  log: Logger
  /** Called with the number of records each acknowledged write covered, in the order they were recorded. */
  onAcknowledged?: (count: number) => void
  /**
   * Records per produce request, spread over the topic's partitions: well
   * under the broker's 1 MiB batch limit at ~300 bytes a record. kafkajs
   * groups a request's records per partition in time quadratic in their
   * number, so a larger request costs more CPU per record (bench/history.md).
   */
  chunk?: number
}

interface Queued {
  key: Buffer
  value: Buffer
  outcome: AttemptEntry['outcome']
}

/**
 * The engine's history recorder on Kafka: each entry is queued at once and
 * written to the attempts topic (acks=all, keyed by event id) in chunks, one
 * request at a time, retried until acknowledged. {@link flush} waits for
 * everything recorded before it: the runtime calls it before every commit,
 * so an attempt is durable before the offset that settles it is committed.
 */
export class KafkaAttemptLog implements AttemptRecorder {
  readonly #o: KafkaAttemptLogOptions
  #queue: Queued[] = []
  readonly #acks = new Acknowledgements()
  #sending: Promise<void> | undefined
  #closed = false

  constructor (o: KafkaAttemptLogOptions) {
    this.#o = o
  }

  /** Records handed in and not yet acknowledged. */
  get pending (): number {
    return this.#acks.pending
  }

  record (entry: AttemptEntry): void {
    if (this.#closed) return
    this.#queue.push({ key: Buffer.from(entry.eventId), value: encodeAttempt(entry, this.#o.schemaId), outcome: entry.outcome })
    this.#acks.recorded()
    this.#sending ??= this.#drain()
  }

  /** Resolves once every record handed in before the call is acknowledged; rejects if the log closes first. */
  async flush (): Promise<void> {
    await this.#acks.flush('attempt log')
  }

  /** Stops writing; waiting flushes reject. */
  close (): void {
    this.#closed = true
    this.#acks.close('attempt log')
  }

  async #drain (): Promise<void> {
    const { producer, topic, compression, metrics, log } = this.#o
    const chunkSize = this.#o.chunk ?? 1000
    let failures = 0
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = this.#queue.slice(0, chunkSize)
        try {
          await producer.send({ topic, acks: -1, compression, messages: chunk.map(({ key, value }) => ({ key, value })) })
        } catch (err) {
          failures++
          metrics.historyWriteFailures.inc()
          log.warn({ err, topic, records: chunk.length, failures }, 'attempts topic write failed; retrying (offset commits wait for it)')
          await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 100 * 2 ** Math.min(failures, 7))))
          continue
        }
        failures = 0
        this.#queue.splice(0, chunk.length)
        this.#acks.acknowledged(chunk.length)
        this.#o.onAcknowledged?.(chunk.length)
        for (const { outcome } of chunk) metrics.historyRecords.inc({ outcome })
      }
    } finally {
      this.#sending = undefined
    }
  }
}
