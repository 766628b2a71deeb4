import type { Logger } from 'pino'
import { newDeliveryTask, type DecodedEvent, type DeliveryState, type DeliveryTask, type RawRecord, type RecordCoordinates, type TaskOutcome } from './delivery-task.js'
import { KeyQueues, orderingKey, type ReadyItem } from './key-queues.js'
import type { WorkSource } from './scheduler.js'
import { LaneWindow } from './lane-window.js'
import type { Subscription } from '../subscriptions/types.js'

/** The outcome of decoding and matching a record, decided by the consumer. */
export type RecordPlan =
  | { kind: 'deliver', event: DecodedEvent, body: string, subscriptions: Subscription[] }
  | { kind: 'dead-letter', reason: string, detail: string }
  | { kind: 'drop', reason: 'no-subscription' }

/** The lane's side effects, so the lane itself holds only ordering state. */
export interface SourceLaneEffects {
  /** Parks a task on the co-partitioned retry topic; resolves with its retry offset. */
  park: (task: DeliveryTask) => Promise<bigint>
  /** Writes a dead letter; resolves once durable. */
  deadLetter: (source: RecordCoordinates, record: RawRecord, reason: string, delivery?: DeliveryState, detail?: string) => Promise<void>
  /** An endpoint answered 410 Gone. */
  disableEndpoint: (subscriptionId: string, reason: string) => void
  /** Whether the partner retry lane has settled the record at `retryOffset`. */
  retrySettled: (retryOffset: bigint) => boolean
  /** Whether the partner retry lane still holds items of `key`. */
  retryHoldsKey: (key: string) => boolean
  requestPump: () => void
  now: () => number
  onSettled?: (outcome: SettledOutcome, task?: DeliveryTask) => void
}

export type SettledOutcome = 'delivered' | 'parked' | 'dead-lettered' | 'dropped'

interface BlockedKey {
  /** Retry offset of the newest item parked for the key, once acknowledged. */
  newest: bigint | undefined
  /** Parks handed to the retry topic and not yet acknowledged. */
  inProgress: number
}

/**
 * Per source partition: the window of unsettled records, per-key FIFO
 * queues, and the blocked keys whose earlier deliveries are parked.
 *
 * Ordering argument (C2): a key's tasks run one at a time in offset order.
 * When one fails, it and everything queued behind it are parked, in order, on
 * `T.retry:p`, and the key is blocked: later tasks of the key are parked
 * straight behind, unattempted. The key unblocks only when the retry lane has
 * settled the newest item parked for it, so nothing overtakes a parked item.
 */
export class SourceLane implements WorkSource {
  readonly id: string
  readonly topic: string
  readonly partition: number
  readonly #queues = new KeyQueues<DeliveryTask>()
  readonly #pending = new Map<bigint, number>()
  /** Records fanned out to several subscriptions and partly settled: who settled. */
  readonly #partlySettled = new Map<bigint, Set<string>>()
  readonly #blocked = new Map<string, BlockedKey>()
  readonly #effects: SourceLaneEffects
  readonly #windowLimit: number
  readonly #log: Logger
  readonly window = new LaneWindow()
  #running = 0
  #closed = false

  constructor (topic: string, partition: number, windowLimit: number, effects: SourceLaneEffects, log: Logger) {
    this.topic = topic
    this.partition = partition
    this.id = `${topic}:${partition}`
    this.#windowLimit = windowLimit
    this.#effects = effects
    this.#log = log
  }

  get closed (): boolean {
    return this.#closed
  }

  /** Records in the window (from the watermark up), for backpressure and metrics. */
  get windowSize (): number {
    return this.window.size
  }

  get unsettledRecords (): number {
    return this.window.unsettled
  }

  get blockedKeys (): number {
    return this.#blocked.size
  }

  /** Whether `offset` was already taken into the window (a re-fetch after a pause or rejoin). */
  hasSeen (offset: bigint): boolean {
    return this.window.hasSeen(offset)
  }

  isFull (): boolean {
    return this.windowSize >= this.#windowLimit
  }

  /** True when the window has room again (a low mark, so resume does not flap). */
  hasRoom (): boolean {
    return this.windowSize <= Math.floor(this.#windowLimit / 2)
  }

  /**
   * Marks a key blocked because the retry topic already holds items of it
   * (found while the retry lane rebuilt its state on assignment).
   */
  blockFromRetryTopic (key: string, retryOffset: bigint): void {
    const entry = this.#blocked.get(key)
    if (entry === undefined) {
      this.#blocked.set(key, { newest: retryOffset, inProgress: 0 })
    } else if (entry.newest === undefined || retryOffset > entry.newest) {
      entry.newest = retryOffset
    }
  }

  /** Takes a decoded record into the window. The caller has checked {@link isFull}. */
  accept (coordinates: RecordCoordinates, record: RawRecord, plan: RecordPlan): void {
    if (this.#closed) return
    const { offset } = coordinates
    this.window.track(offset)

    if (plan.kind === 'drop') {
      this.window.settle(offset)
      this.#effects.onSettled?.('dropped')
      return
    }
    if (plan.kind === 'dead-letter') {
      this.#pending.set(offset, 1)
      this.#effects.deadLetter(coordinates, record, plan.reason, undefined, plan.detail).then(() => {
        this.#settleOne(offset)
        this.#effects.onSettled?.('dead-lettered')
      }, (err: unknown) => this.#abandoned(err))
      return
    }

    const { event, body } = plan
    // After a restart, deliveries the previous owner already settled (the
    // record itself was only partly settled) are not made again.
    const settledBefore = this.window.takeDeliveriesSettledBefore(offset)
    const subscriptions = settledBefore === undefined ? plan.subscriptions : plan.subscriptions.filter((s) => !settledBefore.has(s.id))
    if (subscriptions.length === 0) {
      this.window.settle(offset)
      return
    }
    this.#pending.set(offset, subscriptions.length)
    if (settledBefore !== undefined && settledBefore.size > 0) this.#partlySettled.set(offset, new Set(settledBefore))
    for (const subscription of subscriptions) {
      const task = newDeliveryTask(event, subscription.id, body, coordinates, record)
      const key = orderingKey(subscription.id, event.accountId)
      if (this.#blocked.has(key)) {
        this.#park(key, [task])
      } else {
        this.#queues.enqueue(key, task)
      }
    }
    this.#effects.requestPump()
  }

  /** Attempts handed out and not finished (also after close, until they report). */
  get running (): number {
    return this.#running
  }

  takeReady (limit: number, canStart: (task: DeliveryTask) => boolean): Array<ReadyItem<DeliveryTask>> {
    if (this.#closed) return []
    const taken = this.#queues.takeReady(limit, canStart)
    this.#running += taken.length
    return taken
  }

  finish (key: string, task: DeliveryTask, outcome: TaskOutcome): void {
    this.#running--
    // A revoked lane's late results are dropped: the partition's new owner
    // redelivers from the committed watermark (a duplicate, never a loss).
    if (this.#closed) return
    const offset = task.source.offset
    switch (outcome.kind) {
      case 'delivered':
        this.#queues.complete(key)
        this.#settleOne(offset, task.subscriptionId)
        this.#effects.onSettled?.('delivered', task)
        return
      case 'dropped':
        this.#queues.complete(key)
        this.#settleOne(offset, task.subscriptionId)
        this.#effects.onSettled?.('dropped', task)
        return
      case 'dead-letter':
        this.#queues.complete(key)
        this.#deadLetterTask(task, outcome.reason)
        return
      case 'held': {
        const behind = this.#queues.drainKey(key)
        this.#queues.complete(key)
        this.#park(key, [task, ...behind])
        return
      }
      case 'failed': {
        if (outcome.endpointGone) {
          this.#effects.disableEndpoint(task.subscriptionId, 'endpoint answered 410 Gone')
          this.#queues.complete(key)
          this.#deadLetterTask(task, 'endpoint-gone')
          return
        }
        // The endpoint's Retry-After travels with the parked head.
        if (outcome.retryAfterMs !== undefined) task.notBefore = this.#effects.now() + outcome.retryAfterMs
        // Block first, then take everything queued behind the head, so the
        // head and its followers go to the retry topic in order.
        const behind = this.#queues.drainKey(key)
        this.#queues.complete(key)
        this.#park(key, [task, ...behind])
      }
    }
  }

  /**
   * The retry lane settled an item of `key`. Unblocks the key once the newest
   * item parked for it is settled and nothing of it is left in the retry lane.
   */
  onRetrySettled (key: string): void {
    this.#maybeUnblock(key)
  }

  // The dead-letter sender rejects only once closed (shutdown): the record
  // stays unsettled, so it is not committed and is read again (C1).
  #abandoned (err: unknown): void {
    this.#log.warn({ err, lane: this.id }, 'dead letter abandoned on close; the record will be read again')
  }

  /**
   * Stops the lane (partition revoked or shutdown): nothing more starts, late
   * results are ignored. Unsettled records stay uncommitted.
   */
  close (): void {
    this.#closed = true
  }

  /** No queued or running task and no park or dead letter outstanding. */
  isDrained (): boolean {
    return this.#queues.isIdle() && this.unsettledRecords === 0
  }

  #park (key: string, tasks: DeliveryTask[]): void {
    let entry = this.#blocked.get(key)
    if (entry === undefined) {
      entry = { newest: undefined, inProgress: 0 }
      this.#blocked.set(key, entry)
    }
    const blocked = entry
    for (const task of tasks) {
      blocked.inProgress++
      this.#effects.park(task).then((retryOffset) => {
        blocked.inProgress--
        if (blocked.newest === undefined || retryOffset > blocked.newest) blocked.newest = retryOffset
        if (this.#closed) return
        this.#settleOne(task.source.offset, task.subscriptionId)
        this.#effects.onSettled?.('parked', task)
        this.#maybeUnblock(key)
      }, (err: unknown) => {
        // OrderedSender retries until it succeeds; it only rejects when
        // closed, and then the record stays unsettled and is redelivered.
        blocked.inProgress--
        this.#log.warn({ err, key: task.subscriptionId }, 'park abandoned on close')
      })
    }
  }

  #maybeUnblock (key: string): void {
    const entry = this.#blocked.get(key)
    if (entry === undefined || entry.inProgress > 0 || entry.newest === undefined) return
    if (!this.#effects.retrySettled(entry.newest) || this.#effects.retryHoldsKey(key)) return
    this.#blocked.delete(key)
    this.#effects.requestPump()
  }

  #deadLetterTask (task: DeliveryTask, reason: string): void {
    const offset = task.source.offset
    this.#effects.deadLetter(task.source, task.record, reason, task).then(() => {
      if (this.#closed) return
      this.#settleOne(offset, task.subscriptionId)
      this.#effects.onSettled?.('dead-lettered', task)
    }, (err: unknown) => this.#abandoned(err))
  }

  #settleOne (offset: bigint, subscriptionId?: string): void {
    const left = (this.#pending.get(offset) ?? 1) - 1
    if (left > 0) {
      this.#pending.set(offset, left)
      if (subscriptionId !== undefined) {
        const subs = this.#partlySettled.get(offset) ?? new Set<string>()
        subs.add(subscriptionId)
        this.#partlySettled.set(offset, subs)
      }
      return
    }
    this.#pending.delete(offset)
    this.#partlySettled.delete(offset)
    this.window.settle(offset)
  }

  /** The offset and metadata to commit: settled records and, for partly settled ones, settled deliveries. */
  commit (): { offset: bigint, metadata: string | undefined } | undefined {
    if (this.#partlySettled.size === 0) return this.window.commit()
    const bySubscription = new Map<string, bigint[]>()
    for (const [offset, subs] of this.#partlySettled) {
      for (const sub of subs) {
        const list = bySubscription.get(sub) ?? []
        list.push(offset)
        bySubscription.set(sub, list)
      }
    }
    return this.window.commit(bySubscription)
  }
}
