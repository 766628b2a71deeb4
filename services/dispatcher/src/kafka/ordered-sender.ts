import type { CompressionTypes, Producer } from 'kafkajs'
import type { OutgoingRecord } from '../engine/parked-record.js'

interface Pending {
  record: OutgoingRecord
  resolve: (offset: bigint) => void
}

export interface OrderedSenderOptions {
  producer: Producer
  topic: string
  /** The codec of the batches it writes (KAFKA_COMPRESSION). */
  compression: CompressionTypes
  /** Fixed partition (retry topics: the source partition); undefined = by key. */
  partition?: number
  /** Called on each failed send before it is tried again. */
  onSendError?: (err: unknown, attempt: number) => void
  /** Delay before the n-th retry of a failed send (1-based). */
  retryDelayMs?: (attempt: number) => number
}

const defaultRetryDelay = (attempt: number): number => Math.min(10_000, 250 * 2 ** Math.min(attempt, 6))

/**
 * Produces records to one topic-partition in the order they were handed in,
 * with acks=all, batching whatever queued up while the previous send was out.
 * Each `send` resolves with the record's offset once the broker has it
 * durably; a failed send is retried until it succeeds or the sender closes,
 * because the caller's record stays unsettled (and uncommitted) until then —
 * nothing is ever dropped here (DESIGN C1).
 */
export class OrderedSender {
  readonly #options: OrderedSenderOptions
  #queue: Pending[] = []
  #sending = false
  #closed = false

  constructor (options: OrderedSenderOptions) {
    this.#options = options
  }

  get pending (): number {
    return this.#queue.length
  }

  send (record: OutgoingRecord): Promise<bigint> {
    if (this.#closed) return Promise.reject(new Error(`sender for ${this.#options.topic} is closed`))
    return new Promise<bigint>((resolve) => {
      this.#queue.push({ record, resolve })
      if (!this.#sending) void this.#drain()
    })
  }

  /** Stops retrying; records not yet acknowledged stay unacknowledged. */
  close (): void {
    this.#closed = true
  }

  async #drain (): Promise<void> {
    this.#sending = true
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue
        this.#queue = []
        const offsets = await this.#sendWithRetry(batch)
        if (offsets === undefined) return
        batch.forEach((pending, i) => pending.resolve(offsets + BigInt(i)))
      }
    } finally {
      this.#sending = false
    }
  }

  async #sendWithRetry (batch: Pending[]): Promise<bigint | undefined> {
    const { producer, topic, partition, compression } = this.#options
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const metadata = await producer.send({
          topic,
          acks: -1,
          compression,
          messages: batch.map(({ record }) => ({ key: record.key, value: record.value, headers: record.headers, partition }))
        })
        // One send to one partition is one idempotent batch: its records get
        // consecutive offsets from baseOffset.
        const base = metadata[0]?.baseOffset ?? metadata[0]?.offset
        return BigInt(base ?? '-1')
      } catch (err) {
        this.#options.onSendError?.(err, attempt)
        const delay = (this.#options.retryDelayMs ?? defaultRetryDelay)(attempt)
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
    return undefined
  }
}
