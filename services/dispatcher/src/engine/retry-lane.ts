import type { Logger } from 'pino'
import type { NextAttempt } from '../delivery/backoff.js'
import type { DeliveryState, DeliveryTask, RawRecord, RecordCoordinates, TaskOutcome } from './delivery-task.js'
import { DueTimers } from './due-timers.js'
import { KeyQueues, orderingKey, type ReadyItem } from './key-queues.js'
import type { WorkSource } from './scheduler.js'
import { LaneWindow } from './lane-window.js'
import { HeldEntry, type EntryOrigin, type RetryItem } from './held-entry.js'
import { PackArena } from './parked-pack.js'

export type { RetryItem } from './held-entry.js'

/** Options of a retry lane. */
export interface RetryLaneOptions {
  /**
   * RETRY_MAX_PARKED_IN_MEMORY: entries held with their bytes (a head's
   * task, or packed); past it, entries are held without and read again from
   * the retry partition when they become their key's head. @defaultValue Infinity
   */
  maxWithBytes?: number
}

/** The identity of a delivery in one retry partition: its subscription and source offset. */
function deliveryIdOf (delivery: { subscriptionId: string, sourceOffset: bigint | number }): string {
  return `${delivery.subscriptionId}\u0000${delivery.sourceOffset}`
}

/** Retry offsets settled above the commit position before the lane moves what pins it (MAX_TRACKED_OFFSETS is 16,000). */
export const COMPACT_SPAN = 12_000
/** Waiting items due sooner than this are not moved by {@link RetryLane.compact}: they settle in place. */
export const MOVE_HORIZON_MS = 30_000

/** What to do with a parked record, decided by the consumer after decoding it. */
export type RetryPlan =
  | { kind: 'retry', task: DeliveryTask }
  /** The subscription no longer exists (C1: an explicit, counted drop). */
  | { kind: 'drop', reason: 'subscription-deleted' }
  /** The record cannot be used (not decodable, not ours); `delivery` when its headers were readable. */
  | { kind: 'dead-letter', reason: string, detail?: string, source: RecordCoordinates, record: RawRecord, delivery?: DeliveryState }

export interface RetryLaneEffects {
  /** When to attempt a failed item again, or that it is out of time, as judged at `asOf` (default: now). */
  nextAttempt: (task: DeliveryTask, retryAfterMs: number | undefined, asOf?: number) => NextAttempt
  deadLetter: (source: RecordCoordinates, record: RawRecord, reason: string, delivery?: DeliveryState, detail?: string) => Promise<void>
  disableEndpoint: (subscriptionId: string, reason: string) => void
  /** Tells the partner source lane that the retry lane settled an item of `key`. */
  onKeySettled: (key: string) => void
  requestPump: () => void
  now: () => number
  onSettled?: (outcome: 'delivered' | 'dead-lettered' | 'dropped', task?: DeliveryTask) => void
  /** Writes a waiting item again at the end of the retry partition (the pair's park sink); resolves with its new offset once durable. */
  move: (task: DeliveryTask) => Promise<bigint>
  /**
   * Asks the reader to read the retry partition again from `retryOffset`:
   * an entry held without its bytes became its key's head. The reader hands
   * what it reads again to {@link RetryLane.reread}.
   */
  reread?: (retryOffset: bigint) => void
}

/**
 * Per retry partition `T.retry:p`: parked deliveries, one FIFO per key in
 * source-offset order, only the head of a key attempted, and only when due
 * (DESIGN §4). An item parked behind another (never attempted) is due as
 * soon as it becomes the head. Nothing is attempted before the pair's
 * handover gate opens ({@link openGate}).
 *
 * A failed retry stays in memory with its next due time; a restart re-reads
 * it and recomputes the backoff from its first-failure time. Items that wait
 * must not pin the commit position (a restart would deliver again everything
 * settled above it that the commit metadata cannot hold): once more than
 * {@link COMPACT_SPAN} offsets lie between the watermark and the highest
 * settled offset, {@link compact} writes every idle waiting item below that
 * again at the end of the partition and settles its old offset. A key's
 * items can then sit out of offset order in the log, so they are queued by
 * source offset, and a copy read back is recognised by its delivery id
 * (subscription and source offset) and not queued twice.
 *
 * Memory: a backlog behind a down endpoint is held as packed entries, and
 * past RETRY_MAX_PARKED_IN_MEMORY as entries without their bytes (see
 * {@link HeldEntry}); the reader stops taking more in at
 * RETRY_MAX_PARKED_TRACKED (kafka/batch-readers.ts).
 */
export class RetryLane implements WorkSource {
  readonly id: string
  readonly topic: string
  readonly partition: number
  readonly #queues = new KeyQueues<HeldEntry>()
  readonly #effects: RetryLaneEffects
  readonly #timers: DueTimers
  /** Keys held until their endpoint resumes, by subscription. */
  readonly #heldUntilResume = new Map<string, Set<string>>()
  /** Keys whose head waits for its endpoint's open circuit → that subscription: an operator action releases them at once. */
  readonly #heldByCircuit = new Map<string, string>()
  readonly #log: Logger
  readonly window = new LaneWindow()
  /** What entries share, one per subscription and source partition. */
  readonly #origins = new Map<string, EntryOrigin>()
  readonly #arena = new PackArena()
  readonly #maxWithBytes: number
  /** Entries held with their bytes (a task or packed), and without. */
  #withBytes = 0
  #withoutBytes = 0
  /** Heads held without their bytes, waiting to be read again, by retry offset. */
  readonly #awaitingBytes = new Map<bigint, { key: string, entry: HeldEntry }>()
  /** The next retry offset the reader hands over (tracked to know when a read again must go back). */
  #readPosition: bigint | undefined
  /** Moved items whose copy has not been read back yet, by delivery id; `settled` once the item settled meanwhile. */
  readonly #moved = new Map<string, 'waiting' | 'settled'>()
  /**
   * The highest offset settled as a delivery (delivered, dead-lettered,
   * dropped): what a restart would deliver again if the commit cannot cover
   * it. Markers and the old offsets of moved items are left out: reading
   * those again changes nothing.
   */
  #highestSettledDelivery: bigint | undefined
  #moving = 0
  #running = 0
  #gateOpen = false
  #closed = false

  constructor (topic: string, partition: number, effects: RetryLaneEffects, log: Logger, options: RetryLaneOptions = {}) {
    this.#maxWithBytes = options.maxWithBytes ?? Infinity
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

  /** Parked items held in memory (read, not settled), with their bytes or without. */
  get heldItems (): number {
    return this.#queues.size
  }

  /** Parked items held without their bytes (read again from the retry partition when needed). */
  get heldWithoutBytes (): number {
    return this.#withoutBytes
  }

  /** Whether a head waits for its record to be read again: the reader must not stay paused. */
  get awaitingReread (): boolean {
    return this.#awaitingBytes.size > 0
  }

  /**
   * The reader is about to hand over (or pass over) the record at
   * `retryOffset`: where it reads, so that a head needing a record before
   * it asks for the partition to be read again ({@link RetryLaneEffects.reread}).
   */
  readingAt (retryOffset: bigint): void {
    this.#readPosition = retryOffset + 1n
  }

  /**
   * Whether the reader should decode the record at `retryOffset`, read
   * before and read again now, and hand it to {@link reread}: it is still
   * held, and a head waits for its bytes or the budget has room for more.
   */
  wantsReread (retryOffset: bigint): boolean {
    if (this.#closed || this.#withoutBytes === 0 || !this.window.isInFlight(retryOffset)) return false
    return this.#awaitingBytes.has(retryOffset) || this.#withBytes < this.#maxWithBytes
  }

  /**
   * Whether reading again from where the reader is can stop: no head waits
   * for bytes at or after `retryOffset`, and there is no room for more.
   */
  rereadDone (retryOffset: bigint): boolean {
    for (const awaited of this.#awaitingBytes.keys()) if (awaited >= retryOffset) return false
    return this.#withoutBytes === 0 || this.#withBytes >= this.#maxWithBytes
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

  /** Attempts handed out and not finished (also after close, until they report). */
  get running (): number {
    return this.#running
  }

  /** Moves written and not yet acknowledged. */
  get moving (): number {
    return this.#moving
  }

  /** The pair's handover gate opened: items may be attempted from now on. */
  openGate (): void {
    if (this.#gateOpen) return
    this.#gateOpen = true
    this.#effects.requestPump()
  }

  /** A handover marker (or any record that is not a delivery) read at `retryOffset`: passed over. */
  passOver (retryOffset: bigint): void {
    if (this.#closed) return
    this.window.track(retryOffset)
    this.window.settle(retryOffset)
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
      this.#settledDelivery(retryOffset)
      this.#effects.onSettled?.('dropped')
      return undefined
    }
    if (plan.kind === 'dead-letter') {
      this.#effects.deadLetter(plan.source, plan.record, plan.reason, plan.delivery, plan.detail).then(() => this.#settle(retryOffset, 'dead-lettered'), (err: unknown) => this.#abandoned(err))
      return undefined
    }
    const { task } = plan
    const key = orderingKey(task.subscriptionId, task.accountId)
    const readBack = this.#readBack(key, task, retryOffset)
    if (readBack !== 'new') return readBack === 'held' ? key : undefined
    const entry = new HeldEntry(retryOffset, task.source.offset, this.#originOf(task))
    // By source offset: a moved item sits in the log after items of its key
    // that came later.
    const isHead = this.#queues.insert(key, entry, (queued) => queued.sourceAt > entry.sourceAt)
    if (isHead) {
      this.#withBytes++
      entry.task = { ...task, retryOffset }
      this.#rescheduleHead(key, entry.subscriptionId)
    } else if (this.#withBytes < this.#maxWithBytes) {
      this.#withBytes++
      this.#pack(entry, task)
    } else {
      this.#withoutBytes++
    }
    return key
  }

  /**
   * A record read again at `retryOffset` (see {@link wantsReread}), planned
   * as when it was first read: an entry held without its bytes takes them;
   * a head waiting for them goes on.
   */
  reread (retryOffset: bigint, plan: RetryPlan): void {
    if (this.#closed) return
    const awaited = this.#awaitingBytes.get(retryOffset)
    if (plan.kind !== 'retry') {
      // Its subscription was deleted, or the record no longer decodes: what
      // would have become of it on its first read, once it is the head.
      if (awaited !== undefined) this.#settleAwaitedHead(retryOffset, awaited.key, plan)
      return
    }
    const key = orderingKey(plan.task.subscriptionId, plan.task.accountId)
    const sourceAt = Number(plan.task.source.offset)
    const entry = awaited?.entry ?? this.#queues.findFromBack(key, (queued) => queued.sourceAt === sourceAt, (queued) => queued.sourceAt < sourceAt)
    if (entry === undefined || entry.hasBytes || entry.retryAt !== Number(retryOffset)) return
    if (awaited !== undefined) {
      this.#awaitingBytes.delete(retryOffset)
      this.#withoutBytes--
      this.#withBytes++
      entry.task = { ...plan.task, retryOffset }
      this.#queues.unblock(key)
      this.#scheduleHead(key)
      this.#effects.requestPump()
      return
    }
    if (this.#withBytes >= this.#maxWithBytes) return
    this.#withoutBytes--
    this.#withBytes++
    this.#pack(entry, plan.task)
  }

  #pack (entry: HeldEntry, task: DeliveryTask): void {
    entry.packed = this.#arena.pack(task)
    entry.task = undefined
  }

  // A head held without its bytes whose record, read again, is to be
  // dropped or dead-lettered rather than delivered.
  #settleAwaitedHead (retryOffset: bigint, key: string, plan: Exclude<RetryPlan, { kind: 'retry' }>): void {
    this.#awaitingBytes.delete(retryOffset)
    const finish = (outcome: 'dropped' | 'dead-lettered'): void => {
      if (this.#closed) return
      this.#queues.dropHead(key)
      this.#withoutBytes--
      this.#queues.unblock(key)
      this.#settledDelivery(retryOffset)
      this.#effects.onSettled?.(outcome)
      this.#afterHead(key)
      this.#effects.requestPump()
    }
    if (plan.kind === 'drop') {
      finish('dropped')
      return
    }
    this.#effects.deadLetter(plan.source, plan.record, plan.reason, plan.delivery, plan.detail).then(() => finish('dead-lettered'), (err: unknown) => this.#abandoned(err))
  }

  #originOf (task: DeliveryTask): EntryOrigin {
    const { subscriptionId, source: { topic, partition } } = task
    const id = `${subscriptionId}\u0000${topic}\u0000${partition}`
    const known = this.#origins.get(id)
    if (known !== undefined) return known
    const origin = { subscriptionId, sourceTopic: topic, sourcePartition: partition }
    this.#origins.set(id, origin)
    return origin
  }

  // The entry's task, for its key's head: unpacked from its buffer.
  #unpack (entry: HeldEntry): RetryItem {
    if (entry.task !== undefined) return entry.task
    const task: RetryItem = { ...entry.unpacked(), retryOffset: entry.retryOffset }
    entry.task = task
    entry.packed = undefined
    return task
  }

  // A record of a delivery the lane already holds: the copy of a moved item
  // read back, or one parked twice (a crash between a park and its commit).
  // The held item answers for both offsets.
  #readBack (key: string, task: DeliveryTask, retryOffset: bigint): 'new' | 'held' | 'settled' {
    const sourceOffset = task.source.offset
    const deliveryId = deliveryIdOf({ subscriptionId: task.subscriptionId, sourceOffset })
    const moved = this.#moved.get(deliveryId)
    if (moved === 'settled') {
      this.#moved.delete(deliveryId)
      this.#settledDelivery(retryOffset)
      return 'settled'
    }
    // A key's entries are in source-offset order: a new record (the usual
    // case) is told from a held one at the back of its key's queue.
    const sourceAt = Number(sourceOffset)
    const held = this.#queues.findFromBack(key, (queued) => queued.sourceAt === sourceAt, (queued) => queued.sourceAt < sourceAt)
    if (held === undefined) return 'new'
    this.#moved.delete(deliveryId)
    const previous = held.retryOffset
    held.movedTo(retryOffset)
    // The copy is durable, so the offset it was read at before is done with.
    if (previous !== retryOffset) this.window.settle(previous)
    return 'held'
  }

  takeReady (limit: number, canStart: (task: DeliveryTask) => boolean): Array<ReadyItem<DeliveryTask>> {
    if (this.#closed || !this.#gateOpen) return []
    // A ready key's head has its task (#scheduleHead unpacks it); one held
    // without its bytes keeps its key blocked until they are read again.
    const taken = this.#queues.takeReady(limit, (entry) => entry.hasBytes && canStart(this.#unpack(entry)))
    this.#running += taken.length
    return taken.map(({ key, item }) => ({ key, item: this.#unpack(item) }))
  }

  finish (key: string, task: DeliveryTask, outcome: TaskOutcome): void {
    this.#running--
    if (this.#closed) return
    const item = task as RetryItem
    // The head that ran; a moved copy read back meanwhile updated its offset.
    item.retryOffset = (this.#queues.peek(key) as HeldEntry).retryOffset
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
          this.#heldByCircuit.set(key, item.subscriptionId)
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
        this.#heldByCircuit.delete(key)
        this.#queues.release(key)
        this.#queues.block(key)
        this.#timers.schedule(key, next.at)
      }
    }
  }

  /**
   * The endpoint resumed, was enabled, or an operator asked for a probe: its
   * held keys may run again, each from its head, in order. That includes
   * keys waiting for the circuit's next probe (up to CIRCUIT_OPEN_MS doubled
   * to 10 minutes): the caller has closed the circuit. Heads that failed an
   * attempt keep their backoff.
   */
  releaseHeld (subscriptionId: string): void {
    const keys = this.#heldUntilResume.get(subscriptionId)
    this.#heldUntilResume.delete(subscriptionId)
    for (const key of keys ?? []) this.#queues.unblock(key)
    let released = keys !== undefined
    // Only keys still blocked by the circuit's timer: one that moved on (its
    // head settled, or failed into a backoff) is no longer in the map.
    for (const [key, owner] of this.#heldByCircuit) {
      if (owner !== subscriptionId) continue
      this.#heldByCircuit.delete(key)
      this.#timers.cancel(key)
      this.#queues.unblock(key)
      released = true
    }
    if (released) this.#effects.requestPump()
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

  /**
   * Moves what pins the commit position: when more than `span` offsets lie
   * between the watermark and the highest settled offset, every held item
   * below that offset that is not running and not already moving is written
   * again at the end of the partition (its key's order is kept by source
   * offset). Its old offset is settled once the copy is durable. `span` 0
   * moves everything that has a settled offset above it (clean shutdown).
   * Returns how many moves it started.
   */
  compact (span = COMPACT_SPAN, horizonMs = MOVE_HORIZON_MS): number {
    if (this.#closed || !this.#gateOpen) return 0
    const commit = this.window.commit()
    const highestSettled = this.#highestSettledDelivery
    if (commit === undefined || highestSettled === undefined || highestSettled - commit.offset <= BigInt(span)) return 0
    let started = 0
    const now = this.#effects.now()
    const highestSettledAt = Number(highestSettled)
    for (const [key, entry] of this.#queues.entries()) {
      // Without its bytes an entry cannot be written again: it stays where
      // it is (a restart may deliver again what settled above it, past
      // what the commit metadata remembers).
      if (entry.retryAt >= highestSettledAt || !entry.hasBytes) continue
      if (this.#queues.isBusy(key) && this.#queues.peek(key) === entry) continue
      if (this.#settlesSoon(key, entry.subscriptionId, now, horizonMs)) continue
      const deliveryId = deliveryIdOf({ subscriptionId: entry.subscriptionId, sourceOffset: entry.sourceAt })
      if (this.#moved.has(deliveryId)) continue
      this.#startMove(deliveryId, entry)
      started++
    }
    return started
  }

  // A key that is being attempted, is ready, or is due within MOVE_HORIZON_MS
  // settles where it is: moving it would only put a delivery far above the
  // commit, beyond what the commit metadata can mark settled (a restart
  // would deliver it again). Keys held until their endpoint resumes wait
  // for as long as that takes.
  #settlesSoon (key: string, subscriptionId: string, now: number, horizonMs: number): boolean {
    if (this.#heldUntilResume.get(subscriptionId)?.has(key) === true) return false
    const due = this.#timers.dueAt(key)
    return due === undefined || due - now < horizonMs
  }

  #startMove (deliveryId: string, entry: HeldEntry): void {
    const from = entry.retryOffset
    // An entry behind its head is written from a copy unpacked for the move.
    const task = entry.task ?? entry.unpacked()
    this.#moved.set(deliveryId, 'waiting')
    this.#moving++
    this.#effects.move(task).then(() => {
      this.#moving--
      if (this.#closed) return
      // Durable at the end of the partition: the old offset is done with,
      // unless the copy was read back and answered for it already.
      if (entry.retryAt === Number(from)) this.window.settle(from)
    }, (err: unknown) => {
      // The sender rejects only once closed: the old offset stays unsettled.
      this.#moving--
      this.#moved.delete(deliveryId)
      this.#log.debug({ err, lane: this.id }, 'move abandoned on close')
    })
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
    this.#heldByCircuit.delete(key)
    if (this.holdsKey(key)) {
      this.#scheduleHead(key)
    } else {
      this.#timers.cancel(key)
    }
    this.#effects.onKeySettled(key)
  }

  // An item that went in front of the key's queue: the due time is the new head's.
  #rescheduleHead (key: string, subscriptionId: string): void {
    // A key held until its endpoint resumes stays held.
    if (this.#heldUntilResume.get(subscriptionId)?.has(key) === true) return
    this.#timers.cancel(key)
    this.#queues.unblock(key)
    this.#scheduleHead(key)
  }

  // A new head that has failed before waits for its backoff; one that was
  // parked behind another (never attempted) is due at once. The backoff is
  // judged as of its last failure: the slot it was given then stands, and if
  // reading it back took longer than that (a loaded machine, a handover, a
  // restart), it is due at once rather than pushed to the slot after.
  #scheduleHead (key: string): void {
    const entry = this.#queues.peek(key)
    if (entry === undefined) return
    if (!entry.hasBytes) {
      this.#awaitBytes(key, entry)
      return
    }
    const head = this.#unpack(entry)
    if (head.attempts === 0 || head.firstFailureAt === undefined) return
    const next = this.#effects.nextAttempt(head, undefined, head.lastFailureAt)
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

  // Items with bytes run low while others wait without: read the partition
  // again now, from the lowest unsettled offset, rather than when a head
  // finds itself without bytes and its key has to wait for the read.
  #readAheadIfLow (): void {
    if (this.#withoutBytes === 0 || this.#withBytes * 2 > this.#maxWithBytes) return
    const highest = this.window.highestTracked
    // A reading again is under way (the reader is behind what it had read).
    if (highest === undefined || this.#readPosition === undefined || this.#readPosition <= highest) return
    const from = this.window.lowestUnsettled
    if (from === undefined) return
    this.#readPosition = from
    this.#effects.reread?.(from)
  }

  // The head is held without its bytes: its key waits while the reader
  // reads the partition again from it (unless it is reading before it).
  #awaitBytes (key: string, entry: HeldEntry): void {
    this.#queues.block(key)
    const retryOffset = entry.retryOffset
    if (this.#awaitingBytes.has(retryOffset)) return
    this.#awaitingBytes.set(retryOffset, { key, entry })
    if (this.#readPosition === undefined || this.#readPosition > retryOffset) {
      this.#readPosition = retryOffset
      this.#effects.reread?.(retryOffset)
    }
  }

  #settledDelivery (retryOffset: bigint): void {
    this.window.settle(retryOffset)
    if (this.#highestSettledDelivery === undefined || retryOffset > this.#highestSettledDelivery) this.#highestSettledDelivery = retryOffset
  }

  #settle (retryOffset: bigint, outcome: 'delivered' | 'dead-lettered' | 'dropped', item?: RetryItem): void {
    if (this.#closed) return
    if (item !== undefined) {
      this.#withBytes--
      const deliveryId = deliveryIdOf({ subscriptionId: item.subscriptionId, sourceOffset: item.source.offset })
      // A copy still to be read back is settled when it is read.
      if (this.#moved.has(deliveryId)) this.#moved.set(deliveryId, 'settled')
    }
    this.#settledDelivery(retryOffset)
    if (item !== undefined) this.#readAheadIfLow()
    this.#effects.onSettled?.(outcome, item)
    this.#log.trace({ retryOffset: retryOffset.toString(), outcome }, 'retry item settled')
  }
}
