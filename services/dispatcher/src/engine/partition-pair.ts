import type { Logger } from 'pino'
import { toParkedRecord, type OutgoingRecord } from './parked-record.js'
import { RetryLane, type RetryLaneEffects } from './retry-lane.js'
import { SourceLane, type SourceLaneEffects } from './source-lane.js'

/** Where parked records go: the co-partitioned retry partition (an OrderedSender in the Kafka adapter). */
export interface ParkSink {
  /** Resolves with the record's retry offset once durable. */
  send: (record: OutgoingRecord) => Promise<bigint>
  /** Records handed in and not yet acknowledged. */
  readonly pending: number
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
  /** The source lane's effects, less those the pair wires itself: parking, and what the retry lane has settled. */
  sourceEffects: Omit<SourceLaneEffects, 'park' | 'retrySettled' | 'retryHoldsKey'>
  /** The retry lane's effects, less the one the pair wires itself (a key settled: the source lane may unblock it). */
  retryEffects: Omit<RetryLaneEffects, 'onKeySettled'>
  log: Logger
}

/**
 * A source partition `T:p` and its retry partition `T.retry:p`, owned
 * together (the co-partition assignor): the two lanes, wired to each other,
 * the rebuild gate, and what was last committed for each.
 *
 * The rebuild gate (C2): the source lane stays closed to new records until
 * the retry lane has read its partition up to the end offset seen at
 * assignment, so every key with parked items is blocked before a newer record
 * of it can be attempted.
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
  #rebuilt = false
  #rebuildTarget: bigint | undefined
  readonly #lastCommitted = new Map<string, { offset: bigint, metadata: string | null }>()

  constructor (o: PartitionPairOptions) {
    this.id = `${o.topic}:${o.partition}`
    this.parkSink = o.parkSink
    this.retry = new RetryLane(o.retryTopic, o.partition, { ...o.retryEffects, onKeySettled: (key) => this.source.onRetrySettled(key) }, o.log)
    this.source = new SourceLane(o.topic, o.partition, o.windowLimit, {
      ...o.sourceEffects,
      park: async (task) => await this.parkSink.send(toParkedRecord(task, o.sourceEffects.now())),
      retrySettled: (offset) => this.retry.hasSettled(offset),
      retryHoldsKey: (key) => this.retry.holdsKey(key)
    }, o.log)
  }

  get closed (): boolean {
    return this.source.closed
  }

  /** Whether the retry lane has read up to the end seen at assignment (the source lane may take records). */
  get rebuilt (): boolean {
    return this.#rebuilt
  }

  /**
   * What the group had committed for the two partitions at assignment: the
   * windows skip what was settled above it, lag counts from it, and it is
   * not committed again unchanged.
   */
  loadCommitted (source: { offset: bigint, metadata: string | null } | undefined, retry: { offset: bigint, metadata: string | null } | undefined): void {
    if (source !== undefined) {
      this.source.window.rememberCommitted(source.offset, source.metadata)
      this.#lastCommitted.set(this.source.id, source)
    }
    if (retry !== undefined) {
      this.retry.window.rememberCommitted(retry.offset, retry.metadata)
      this.#lastCommitted.set(this.retry.id, retry)
    }
    this.offsetsLoaded = true
  }

  /** The retry partition must be read from `start` up to `end` before the source lane opens. */
  setRebuildTarget (start: bigint, end: bigint): void {
    this.#rebuildTarget = end
    if (start >= end) this.#rebuilt = true
  }

  /** Called after the retry lane read more: opens the gate once it has reached the target. */
  checkRebuilt (): void {
    if (this.#rebuilt || this.#rebuildTarget === undefined) return
    const highest = this.retry.highestRead
    if (highest !== undefined && highest + 1n >= this.#rebuildTarget) this.#rebuilt = true
  }

  /** The committed offset of a lane (`topic:partition`), as last committed or loaded. */
  committedOffset (laneId: string): bigint | undefined {
    return this.#lastCommitted.get(laneId)?.offset
  }

  /** The offsets to commit now: each lane's watermark and metadata, where they changed since the last commit. */
  pendingCommits (): CommitEntry[] {
    const entries: CommitEntry[] = []
    for (const [lane, commit] of [[this.source, this.source.commit()], [this.retry, this.retry.window.commit()]] as const) {
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

  /** No delivery of the pair running or queued, and nothing waiting to be parked. */
  isDrained (): boolean {
    return this.source.isDrained() && this.parkSink.pending === 0
  }

  /** Revoked or shutting down: nothing more starts; late results are ignored; nothing more is committed. */
  close (): void {
    this.source.close()
    this.retry.close()
    this.parkSink.close()
    this.#lastCommitted.clear()
  }
}
