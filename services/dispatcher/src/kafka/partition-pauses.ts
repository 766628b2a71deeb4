import type { Consumer } from 'kafkajs'
import type { Logger } from 'pino'
import type { UndecodableBatch } from '../../../events/src/index.js'
import { UndecodableBatchError } from '../errors.js'
import type { Metrics } from '../metrics.js'

interface Pause {
  topic: string
  partition: number
  until: () => boolean
}

/** How often paused partitions are checked for resuming. */
const RESUME_CHECK_MS = 100

/**
 * The partitions the adapter has paused, each until a condition holds (the
 * window has room, the registry is back, the rebuild is done, the partition
 * was revoked), and the ones stopped at an undecodable record batch.
 * eachBatch never waits: it pauses its partition here and returns, and
 * kafkajs fetches the unresolved records again after the resume.
 */
export class PartitionPauses {
  readonly #paused = new Map<string, Pause>()
  /** Partitions stopped at an undecodable record batch, by topic:partition. */
  readonly #stopped = new Map<string, 'source' | 'retry'>()
  readonly #consumer: () => Consumer | undefined
  readonly #metrics: Pick<Metrics, 'undecodableBatches'>
  readonly #log: Logger
  #timer: NodeJS.Timeout | undefined

  constructor (consumer: () => Consumer | undefined, metrics: Pick<Metrics, 'undecodableBatches'>, log: Logger) {
    this.#consumer = consumer
    this.#metrics = metrics
    this.#log = log
  }

  /** The lanes of the partitions stopped at an undecodable batch, for the gauge. */
  stoppedLanes (): IterableIterator<'source' | 'retry'> {
    return this.#stopped.values()
  }

  /** Pauses the partition until `until()` holds (checked every 100 ms). A paused partition stays as it is. */
  pauseUntil (topic: string, partition: number, until: () => boolean): void {
    const id = `${topic}:${partition}`
    if (this.#paused.has(id)) return
    this.#paused.set(id, { topic, partition, until })
    this.#consumer()?.pause([{ topic, partitions: [partition] }])
  }

  /**
   * A batch kafkajs could not decode stops its partition until the partition
   * is revoked or the process restarts (then it is met again): the records
   * at and past it are never accepted, so the watermark and the commit stay
   * below it, and every other partition keeps flowing.
   */
  stopAtUndecodableBatch (lane: 'source' | 'retry', at: { topic: string, partition: number, offset: string }, problem: UndecodableBatch, revoked: () => boolean): void {
    const id = `${at.topic}:${at.partition}`
    if (!this.#stopped.has(id)) {
      this.#stopped.set(id, lane)
      this.#metrics.undecodableBatches.inc({ reader: lane, codec: problem.codec })
      this.#log.error({ err: new UndecodableBatchError(at, problem), topic: at.topic, partition: at.partition, offset: at.offset, codec: problem.codec, reason: problem.reason }, 'undecodable record batch: partition stopped before it; other partitions continue')
    }
    this.pauseUntil(at.topic, at.partition, revoked)
  }

  /** The partition was revoked: its stop, if any, is forgotten (a new owner meets the batch again). */
  forget (laneId: string): void {
    this.#stopped.delete(laneId)
  }

  start (): void {
    this.#timer = setInterval(() => this.#resumeWhereReady(), RESUME_CHECK_MS)
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  #resumeWhereReady (): void {
    for (const [id, entry] of this.#paused) {
      if (!entry.until()) continue
      this.#paused.delete(id)
      this.#consumer()?.resume([{ topic: entry.topic, partitions: [entry.partition] }])
    }
  }
}
