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
   * Records per produce request at most, spread over the topic's partitions: well
   * under the broker's 1 MiB batch limit at ~300 bytes a record. kafkajs
   * groups a request's records per partition in time quadratic in their
   * number, so a larger request costs more CPU per record (bench/history.md).
   */
  chunk?: number
  /**
   * Longest a record waits for others to share its produce request, unless
   * a flush (a commit) asks for it sooner. Without it the writer sends a
   * request per few records while the previous one is acknowledged, and the
   * per-request, per-partition costs (zstd contexts, batch headers) cost
   * more than the records (bench/history.md). Default 50 ms.
   */
  lingerMs?: number
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
  #lingering: NodeJS.Timeout | undefined
  /** A flush waits: send what is queued now, whatever its size. */
  #urgent = false
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
    this.#schedule()
  }

  /** Resolves once every record handed in before the call is acknowledged; rejects if the log closes first. */
  async flush (): Promise<void> {
    if (this.#queue.length > 0) this.#urgent = true
    this.#schedule()
    await this.#acks.flush('attempt log')
  }

  /** Stops writing; waiting flushes reject. */
  close (): void {
    this.#closed = true
    clearTimeout(this.#lingering)
    this.#acks.close('attempt log')
  }

  get #chunkSize (): number {
    return this.#o.chunk ?? 1000
  }

  // A running drain picks up what is queued; otherwise send now when a flush
  // waits or a chunk is full, and else after the linger.
  #schedule (): void {
    if (this.#sending !== undefined || this.#queue.length === 0 || this.#closed) return
    if (this.#urgent || this.#queue.length >= this.#chunkSize) {
      clearTimeout(this.#lingering)
      this.#lingering = undefined
      this.#sending = this.#drain()
      return
    }
    this.#lingering ??= setTimeout(() => {
      this.#lingering = undefined
      if (this.#sending === undefined && this.#queue.length > 0 && !this.#closed) this.#sending = this.#drain()
    }, this.#o.lingerMs ?? 50)
  }

  // Sends a chunk, then more while a flush waits or a whole chunk is
  // queued (a failed send is retried until acknowledged); what is left
  // lingers for more to join it.
  async #drain (): Promise<void> {
    const { producer, topic, compression, metrics, log } = this.#o
    const chunkSize = this.#chunkSize
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
        if (!this.#urgent && this.#queue.length < chunkSize) break
      }
    } finally {
      if (this.#queue.length === 0) this.#urgent = false
      this.#sending = undefined
      this.#schedule()
    }
  }
}
