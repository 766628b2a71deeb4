import type { Logger } from 'pino'
import type { NextAttempt } from '../delivery/backoff.js'
import type { DeliveryState, DeliveryTask, RawRecord, RecordCoordinates, TaskOutcome } from './delivery-task.js'
import { DueTimers } from './due-timers.js'
import { KeyQueues, orderingKey, type ReadyItem } from './key-queues.js'
import type { WorkSource } from './scheduler.js'
import { LaneWindow } from './lane-window.js'

/** A parked delivery loaded from `T.retry:p`. */
export interface RetryItem extends DeliveryTask {
  /** Its offset on the retry topic. */
  retryOffset: bigint
}

/** What to do with a parked record, decided by the consumer after decoding it. */
export type RetryPlan =
  | { kind: 'retry', task: DeliveryTask }
  /** The subscription no longer exists (C1: an explicit, counted drop). */
  | { kind: 'drop', reason: 'subscription-deleted' }
  /** The record cannot be used (not decodable, not ours); `delivery` when its headers were readable. */
  | { kind: 'dead-letter', reason: string, source: RecordCoordinates, record: RawRecord, delivery?: DeliveryState }

export interface RetryLaneEffects {
  /** When to attempt a failed item again, or that it is out of time. */
  nextAttempt: (task: DeliveryTask, retryAfterMs: number | undefined) => NextAttempt
  deadLetter: (source: RecordCoordinates, record: RawRecord, reason: string, delivery?: DeliveryState) => Promise<void>
  disableEndpoint: (subscriptionId: string, reason: string) => void
  /** Tells the partner source lane that the retry lane settled an item of `key`. */
  onKeySettled: (key: string) => void
  requestPump: () => void
  now: () => number
  onSettled?: (outcome: 'delivered' | 'dead-lettered' | 'dropped', task?: DeliveryTask) => void
}

/**
 * Per retry partition `T.retry:p`: parked deliveries in log order, one FIFO
 * per key, only the head of a key attempted, and only when due (DESIGN §4).
 *
 * A failed retry is not re-appended: it stays in memory with its next due
 * time and the commit watermark cannot pass it, so a restart re-reads it and
 * recomputes the backoff from its first-failure time. An item parked behind
 * another (never attempted) is due as soon as it becomes the head.
 */
export class RetryLane implements WorkSource {
  readonly id: string
  readonly topic: string
  readonly partition: number
  readonly #queues = new KeyQueues<RetryItem>()
  readonly #effects: RetryLaneEffects
  readonly #timers: DueTimers
  /** Keys held until their endpoint resumes, by subscription. */
  readonly #heldUntilResume = new Map<string, Set<string>>()
  readonly #log: Logger
  readonly window = new LaneWindow()
  #closed = false

  constructor (topic: string, partition: number, effects: RetryLaneEffects, log: Logger) {
    this.topic = topic
    this.partition = partition
    this.id = `${topic}:${partition}`
    this.#effects = effects
    this.#log = log
    this.#timers = new DueTimers((key) => {
      this.#queues.unblock(key)
      this.#effects.requestPump()
    }, effects.now)
  }

  get closed (): boolean {
    return this.#closed
  }

  /** Parked items held in memory (read, not settled). */
  get heldItems (): number {
    return this.#queues.size
  }

  get unsettledRecords (): number {
    return this.window.unsettled
  }

  hasSeen (offset: bigint): boolean {
    return this.window.hasSeen(offset)
  }

  /** The highest retry offset read so far. */
  get highestRead (): bigint | undefined {
    return this.window.highestTracked
  }

  /** Whether the item at `retryOffset` has been read and settled. */
  hasSettled (retryOffset: bigint): boolean {
    return this.window.hasSettled(retryOffset)
  }

  /** Whether items of `key` are still held. */
  holdsKey (key: string): boolean {
    return this.#queues.lengthOf(key) > 0
  }

  /**
   * Takes a parked record into the lane. Returns the ordering key of the
   * item when it is held for delivery (the source lane keeps that key
   * blocked), otherwise undefined.
   */
  accept (retryOffset: bigint, plan: RetryPlan): string | undefined {
    if (this.#closed) return undefined
    this.window.track(retryOffset)
    if (plan.kind === 'drop') {
      this.window.settle(retryOffset)
      this.#effects.onSettled?.('dropped')
      return undefined
    }
    if (plan.kind === 'dead-letter') {
      this.#effects.deadLetter(plan.source, plan.record, plan.reason, plan.delivery).then(() => this.#settle(retryOffset, 'dead-lettered'), (err: unknown) => this.#abandoned(err))
      return undefined
    }
    const item: RetryItem = { ...plan.task, retryOffset }
    const key = orderingKey(item.subscriptionId, item.accountId)
    const wasEmpty = !this.holdsKey(key)
    this.#queues.enqueue(key, item)
    if (wasEmpty) this.#scheduleHead(key)
    return key
  }

  takeReady (limit: number, canStart: (task: DeliveryTask) => boolean): Array<ReadyItem<DeliveryTask>> {
    if (this.#closed) return []
    return this.#queues.takeReady(limit, canStart)
  }

  finish (key: string, task: DeliveryTask, outcome: TaskOutcome): void {
    if (this.#closed) return
    const item = task as RetryItem
    switch (outcome.kind) {
      case 'delivered':
        this.#queues.complete(key)
        this.#settle(item.retryOffset, 'delivered', item)
        this.#afterHead(key)
        return
      case 'dropped':
        this.#queues.complete(key)
        this.#settle(item.retryOffset, 'dropped', item)
        this.#afterHead(key)
        return
      case 'dead-letter':
        this.#deadLetterHead(key, item, outcome.reason)
        return
      case 'held': {
        this.#queues.release(key)
        this.#queues.block(key)
        if (outcome.until !== undefined) {
          this.#timers.schedule(key, outcome.until)
        } else {
          const keys = this.#heldUntilResume.get(item.subscriptionId) ?? new Set<string>()
          keys.add(key)
          this.#heldUntilResume.set(item.subscriptionId, keys)
        }
        return
      }
      case 'failed': {
        if (outcome.endpointGone) {
          this.#effects.disableEndpoint(item.subscriptionId, 'endpoint answered 410 Gone')
          this.#deadLetterHead(key, item, 'endpoint-gone')
          return
        }
        const next = this.#effects.nextAttempt(item, outcome.retryAfterMs)
        if (next.kind === 'exhausted') {
          this.#deadLetterHead(key, item, 'retries-exhausted')
          return
        }
        this.#queues.release(key)
        this.#queues.block(key)
        this.#timers.schedule(key, next.at)
      }
    }
  }

  /** The endpoint resumed: its held keys may run again, each from its head, in order. */
  releaseHeld (subscriptionId: string): void {
    const keys = this.#heldUntilResume.get(subscriptionId)
    if (keys === undefined) return
    this.#heldUntilResume.delete(subscriptionId)
    for (const key of keys) this.#queues.unblock(key)
    this.#effects.requestPump()
  }

  // The dead-letter sender rejects only once closed (shutdown): the record
  // stays unsettled, so it is not committed and is read again (C1).
  #abandoned (err: unknown): void {
    this.#log.warn({ err, lane: this.id }, 'dead letter abandoned on close; the record will be read again')
  }

  close (): void {
    this.#closed = true
    this.#timers.close()
  }

  // The head of `key` stays busy while its dead letter is written, so the
  // key's next item cannot overtake it (C2: "succeeded or dead-lettered").
  #deadLetterHead (key: string, item: RetryItem, reason: string): void {
    this.#effects.deadLetter(item.source, item.record, reason, item).then(() => {
      if (this.#closed) return
      this.#queues.complete(key)
      this.#settle(item.retryOffset, 'dead-lettered', item)
      this.#afterHead(key)
      this.#effects.requestPump()
    }, (err: unknown) => this.#abandoned(err))
  }

  #afterHead (key: string): void {
    if (this.holdsKey(key)) {
      this.#scheduleHead(key)
    } else {
      this.#timers.cancel(key)
    }
    this.#effects.onKeySettled(key)
  }

  // A new head that has failed before waits for its backoff; one that was
  // parked behind another (never attempted) is due at once.
  #scheduleHead (key: string): void {
    const head = this.#queues.peek(key)
    if (head === undefined) return
    if (head.attempts === 0 || head.firstFailureAt === undefined) return
    const next = this.#effects.nextAttempt(head, undefined)
    if (next.kind === 'exhausted') {
      // Out of time already (e.g. read after a long outage): attempt once
      // more now; its failure dead-letters it.
      return
    }
    // A Retry-After from the attempt that parked it wins when later.
    const at = Math.max(next.at, head.notBefore ?? 0)
    if (at <= this.#effects.now()) return
    this.#queues.block(key)
    this.#timers.schedule(key, at)
  }

  #settle (retryOffset: bigint, outcome: 'delivered' | 'dead-lettered' | 'dropped', item?: RetryItem): void {
    if (this.#closed) return
    this.window.settle(retryOffset)
    this.#effects.onSettled?.(outcome, item)
    this.#log.trace({ retryOffset: retryOffset.toString(), outcome }, 'retry item settled')
  }
}
