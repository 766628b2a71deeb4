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
  /**
   * Whether sending is allowed now (the member's group lease holds); while
   * not, sends wait. A member that may have lost its partitions writes nothing.
   */
  mayWrite?: () => boolean
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
  #sending: Promise<void> | undefined
  #closed = false
  #releasing = false

  constructor (options: OrderedSenderOptions) {
    this.#options = options
  }

  get pending (): number {
    return this.#queue.length
  }

  send (record: OutgoingRecord): Promise<bigint> {
    if (this.#closed || this.#releasing) return Promise.reject(new Error(`sender for ${this.#options.topic} is closed`))
    return new Promise<bigint>((resolve) => {
      this.#queue.push({ record, resolve })
      this.#sending ??= this.#drain()
    })
  }

  /** Stops retrying; records not yet acknowledged stay unacknowledged. */
  close (): void {
    this.#closed = true
  }

  /**
   * The partition is given up: records not yet sent are dropped (they stay
   * unacknowledged), a send already out gets no further retry but is awaited,
   * then `last` is written, tried while `mayTry` holds. Closes the sender.
   * Resolves whether `last` was written.
   */
  async release (last: OutgoingRecord, mayTry: () => boolean): Promise<boolean> {
    if (this.#closed || this.#releasing) return false
    this.#releasing = true
    this.#queue = []
    await this.#sending
    try {
      const offset = await this.#sendWithRetry([{ record: last, resolve: () => undefined }], mayTry)
      return offset !== undefined
    } finally {
      this.#closed = true
    }
  }

  async #drain (): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed && !this.#releasing) {
        const batch = this.#queue
        this.#queue = []
        const offsets = await this.#sendWithRetry(batch, () => !this.#releasing)
        if (offsets === undefined) return
        batch.forEach((pending, i) => pending.resolve(offsets + BigInt(i)))
      }
    } finally {
      this.#sending = undefined
    }
  }

  // Tries until acknowledged, closed, or `mayRetry` says stop (checked after
  // a failed attempt only: an attempt once begun is always finished).
  async #sendWithRetry (batch: Pending[], mayRetry: () => boolean): Promise<bigint | undefined> {
    const { producer, topic, partition, compression } = this.#options
    for (let attempt = 1; !this.#closed; attempt++) {
      if (this.#options.mayWrite?.() === false) {
        if (!mayRetry()) return undefined
        await new Promise((resolve) => setTimeout(resolve, 100))
        attempt--
        continue
      }
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
        if (!mayRetry()) return undefined
        const delay = (this.#options.retryDelayMs ?? defaultRetryDelay)(attempt)
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
    return undefined
  }
}
