import type { Logger } from 'pino'
import { claimRecord, HandoverGate, releaseRecord, type HandoverMarker } from './handover.js'
import type { DeliveryTask } from './delivery-task.js'
import { toParkedRecord, type OutgoingRecord } from './parked-record.js'
import { COMPACT_SPAN, RetryLane, type RetryLaneEffects } from './retry-lane.js'
import { SourceLane, type SourceLaneEffects } from './source-lane.js'

/** Where parked records go: the co-partitioned retry partition (an OrderedSender in the Kafka adapter). */
export interface ParkSink {
  /** Resolves with the record's retry offset once durable. */
  send: (record: OutgoingRecord) => Promise<bigint>
  /** Records handed in and not yet acknowledged. */
  readonly pending: number
  /**
   * Gives the partition up: drops records not yet sent, waits for a send
   * already out, then writes `last` (trying while `mayTry` holds) and closes.
   * Resolves whether `last` was written.
   */
  release: (last: OutgoingRecord, mayTry: () => boolean) => Promise<boolean>
  close: () => void
}

/** One offset to commit, with the commit metadata of settled offsets above it. */
export interface CommitEntry {
  topic: string
  partition: number
  offset: bigint
  metadata: string | null
}

export interface PartitionPairOptions {
  topic: string
  retryTopic: string
  partition: number
  windowLimit: number
  parkSink: ParkSink
  /** This owner's handover token: on its claim, its release and every record it parks. */
  owner: string
  /** How long to wait for a previous owner's release before taking the pair anyway. */
  handoverWaitMs: number
  /** RETRY_MAX_PARKED_IN_MEMORY: parked items the retry lane holds with their bytes. @defaultValue Infinity */
  retryMaxWithBytes?: number
  /** The source lane's effects, less those the pair wires itself: parking, and what the retry lane has settled. */
  sourceEffects: Omit<SourceLaneEffects, 'park' | 'retrySettled' | 'retryHoldsKey'>
  /** The retry lane's effects, less those the pair wires itself (moving an item; a key settled: the source lane may unblock it). */
  retryEffects: Omit<RetryLaneEffects, 'onKeySettled' | 'move'>
  log: Logger
}

/**
 * A source partition `T:p` and its retry partition `T.retry:p`, owned
 * together (the co-partition assignor): the two lanes, wired to each other,
 * the handover gate, and what was last committed for each.
 *
 * The handover gate (C2, DESIGN §4a; engine/handover.ts): the pair claims
 * the retry partition; both lanes stay closed (the source lane takes no
 * record, the retry lane attempts nothing, nothing is committed) until the
 * retry lane has read up to that claim and every earlier owner's release.
 * Every key with parked items is then blocked before a newer record of it
 * can be attempted, and no park of a previous owner can land later.
 */
export class PartitionPair {
  readonly id: string
  readonly source: SourceLane
  readonly retry: RetryLane
  readonly parkSink: ParkSink
  /** Unknown-schema lookups per source offset, bounded by SCHEMA_LOOKUP_RETRIES. */
  readonly schemaMisses = new Map<bigint, number>()
  /** Committed offsets and their metadata are known for both partitions. */
  offsetsLoaded = false
  readonly #gate: HandoverGate
  readonly #now: () => number
  readonly #log: Logger
  #rebuilt = false
  readonly #lastCommitted = new Map<string, { offset: bigint, metadata: string | null }>()

  constructor (o: PartitionPairOptions) {
    this.id = `${o.topic}:${o.partition}`
    this.parkSink = o.parkSink
    this.#now = o.sourceEffects.now
    this.#log = o.log
    this.#gate = new HandoverGate(o.owner, this.#now(), o.handoverWaitMs)
    const park = async (task: DeliveryTask): Promise<bigint> => await this.parkSink.send(toParkedRecord(task, this.#now(), o.owner))
    this.retry = new RetryLane(o.retryTopic, o.partition, { ...o.retryEffects, move: park, onKeySettled: (key) => this.source.onRetrySettled(key) }, o.log, { maxWithBytes: o.retryMaxWithBytes ?? Infinity })
    this.source = new SourceLane(o.topic, o.partition, o.windowLimit, {
      ...o.sourceEffects,
      park,
      retrySettled: (offset) => this.retry.hasSettled(offset),
      retryHoldsKey: (key) => this.retry.holdsKey(key)
    }, o.log)
  }

  get closed (): boolean {
    return this.source.closed
  }

  /** This owner's handover token. */
  get owner (): string {
    return this.#gate.owner
  }

  /** Whether the handover gate is open: the lanes may attempt deliveries and the pair may commit. */
  get rebuilt (): boolean {
    this.checkRebuilt()
    return this.#rebuilt
  }

  /**
   * Writes this owner's claim: the first record the pair writes. Never
   * rejects. Every retry commit this owner makes names it (commit metadata),
   * so a next owner waits for its release even once the commit has passed
   * the claim.
   */
  async claim (): Promise<void> {
    try {
      this.#gate.claimWritten(await this.parkSink.send(claimRecord(this.owner, this.#now())))
    } catch {
      // Closed before the claim was written: nothing to open.
    }
  }

  /** A handover marker read from the retry partition at `offset`. */
  readMarker (offset: bigint, marker: HandoverMarker): void {
    this.retry.passOver(offset)
    this.#gate.read(offset, marker)
    this.checkRebuilt()
  }

  /**
   * What the group had committed for the two partitions at assignment: the
   * windows skip what was settled above it, lag counts from it, and it is
   * not committed again unchanged. The owner the retry commit names may have
   * claimed below it: its release is awaited too.
   */
  loadCommitted (source: { offset: bigint, metadata: string | null } | undefined, retry: { offset: bigint, metadata: string | null } | undefined): void {
    if (source !== undefined) {
      this.source.window.rememberCommitted(source.offset, source.metadata)
      this.#lastCommitted.set(this.source.id, source)
    }
    if (retry !== undefined) {
      this.retry.window.rememberCommitted(retry.offset, retry.metadata)
      this.#lastCommitted.set(this.retry.id, retry)
      const previous = this.retry.window.committedOwner
      if (previous !== undefined) this.#gate.expect(previous)
    }
    this.offsetsLoaded = true
  }

  /** Opens the gate once the own claim and every earlier owner's release are read (or the wait is over). */
  checkRebuilt (): void {
    if (this.#rebuilt || this.closed) return
    const now = this.#now()
    if (!this.#gate.isOpen(now)) return
    this.#rebuilt = true
    if (this.#gate.timedOut(now)) {
      this.#log.warn({ waitingFor: this.#gate.waitingFor }, 'no release from the previous owner within the handover wait; taking the partition')
    } else {
      this.#log.info({ claim: this.#gate.ownClaimOffset?.toString() }, 'handover complete')
    }
    this.retry.openGate()
  }

  /**
   * Whether a park read at `offset`, written by `owner`, is a previous
   * owner's park that landed after this owner's gate opened: the one case the
   * handover cannot order (a previous owner that outlived the handover wait).
   */
  isLatePark (offset: bigint, owner: string | undefined): boolean {
    const claim = this.#gate.ownClaimOffset
    return this.#rebuilt && owner !== undefined && owner !== this.owner && claim !== undefined && offset > claim
  }

  /**
   * Periodic upkeep: moves retry items that pin the commit position
   * (RetryLane.compact). `span` 0 moves all that can move (clean shutdown).
   * Returns how many items it moves.
   */
  maintain (span = COMPACT_SPAN): number {
    if (!this.rebuilt) return 0
    return this.retry.compact(span)
  }

  /** The committed offset of a lane (`topic:partition`), as last committed or loaded. */
  committedOffset (laneId: string): bigint | undefined {
    return this.#lastCommitted.get(laneId)?.offset
  }

  /** The offsets to commit now: each lane's watermark and metadata, where they changed since the last commit. */
  pendingCommits (): CommitEntry[] {
    // Before the handover completes nothing is committed: a commit past an
    // unreleased claim would hide it from the next owner.
    if (!this.rebuilt) return []
    const entries: CommitEntry[] = []
    for (const [lane, commit] of [[this.source, this.source.commit()], [this.retry, this.retry.window.commit(undefined, this.owner)]] as const) {
      if (commit === undefined) continue
      const metadata = commit.metadata ?? null
      const last = this.#lastCommitted.get(lane.id)
      if (last !== undefined && last.offset === commit.offset && last.metadata === metadata) continue
      entries.push({ topic: lane.topic, partition: lane.partition, offset: commit.offset, metadata })
    }
    return entries
  }

  /** Records that the broker accepted these commits. */
  committed (entries: readonly CommitEntry[]): void {
    for (const e of entries) this.#lastCommitted.set(`${e.topic}:${e.partition}`, { offset: e.offset, metadata: e.metadata })
  }

  /** No delivery of the pair running or queued, and nothing waiting to be parked or moved. */
  isDrained (): boolean {
    return this.source.isDrained() && this.retry.running === 0 && this.retry.moving === 0 && this.parkSink.pending === 0
  }

  /** Attempts of either lane still running (they report even after close). */
  get running (): number {
    return this.source.running + this.retry.running
  }

  /** Revoked or shutting down: nothing more starts; late results are ignored; nothing more is committed. */
  close (): void {
    this.source.close()
    this.retry.close()
    this.#lastCommitted.clear()
  }

  /**
   * Hands the pair over after {@link close}: waits (while `mayTry` holds)
   * until no attempt of it is running, so none reaches an endpoint after
   * the next owner starts, then writes the release behind the last park.
   * Resolves whether the release was written; never rejects.
   */
  async handOver (mayTry: () => boolean, pollMs = 20): Promise<boolean> {
    while (this.running > 0 && mayTry()) await new Promise((resolve) => setTimeout(resolve, pollMs))
    if (this.running > 0) {
      this.parkSink.close()
      return false
    }
    try {
      return await this.parkSink.release(releaseRecord(this.owner, this.#now()), mayTry)
    } catch {
      return false
    }
  }
}
