import { decodeSettledOffsets, encodeSettledOffsets } from './settled-offsets.js'
import { PartitionWatermark } from './watermark.js'

/**
 * The offsets a lane has read from one partition and which of them are
 * settled: the commit position, its metadata, and what a previous owner's
 * commit metadata said was already settled. Shared by source and retry lanes.
 */
export class LaneWindow {
  #watermark: PartitionWatermark | undefined
  #settledBefore = new Set<bigint>()
  #deliveriesBefore = new Map<bigint, Set<string>>()
  #ownerBefore: string | undefined

  /** What a previous owner settled above its commit (from the commit metadata). */
  rememberCommitted (committedOffset: bigint, metadata: string | null | undefined): void {
    const decoded = decodeSettledOffsets(committedOffset, metadata)
    this.#settledBefore = decoded.records
    this.#deliveriesBefore = decoded.deliveries
    this.#ownerBefore = decoded.owner
  }

  /** The owner the loaded commit named (retry partitions), if any. */
  get committedOwner (): string | undefined {
    return this.#ownerBefore
  }

  /**
   * The subscriptions whose delivery of the record at `offset` a previous
   * owner settled (the record itself was only partly settled); consumed.
   */
  takeDeliveriesSettledBefore (offset: bigint): Set<string> | undefined {
    const subs = this.#deliveriesBefore.get(offset)
    this.#deliveriesBefore.delete(offset)
    return subs
  }

  /**
   * Takes `offset` as settled when the previous owner's commit said so
   * (it was delivered before the restart); returns whether it did.
   */
  skipIfSettledBefore (offset: bigint): boolean {
    if (!this.#settledBefore.delete(offset)) return false
    this.track(offset)
    this.settle(offset)
    return true
  }

  /** How many remembered records and partly settled records are still to be met. */
  get rememberedCount (): number {
    return this.#settledBefore.size + this.#deliveriesBefore.size
  }

  track (offset: bigint): void {
    this.#watermark ??= new PartitionWatermark(offset)
    this.#watermark.track(offset)
  }

  settle (offset: bigint): void {
    this.#watermark?.settle(offset)
  }

  hasSeen (offset: bigint): boolean {
    const highest = this.#watermark?.highestTracked
    return highest !== undefined && offset <= highest
  }

  /** Whether `offset` was read and settled. */
  hasSettled (offset: bigint): boolean {
    const watermark = this.#watermark
    if (watermark?.highestTracked === undefined || offset > watermark.highestTracked) return false
    return !watermark.isInFlight(offset)
  }

  /** The lowest offset read and not settled (the commit position), if any. */
  get lowestUnsettled (): bigint | undefined {
    return this.#watermark !== undefined && this.#watermark.inFlightCount > 0 ? this.#watermark.commitOffset() : undefined
  }

  /** Whether `offset` was read and is not settled yet. */
  isInFlight (offset: bigint): boolean {
    return this.#watermark?.isInFlight(offset) ?? false
  }

  get highestTracked (): bigint | undefined {
    return this.#watermark?.highestTracked
  }

  /** Records from the watermark up, settled or not (what a crash would re-read). */
  get size (): number {
    return this.#watermark?.windowSize ?? 0
  }

  get unsettled (): number {
    return this.#watermark?.inFlightCount ?? 0
  }

  /**
   * The offset and metadata to commit, if anything was read. `deliveries`
   * adds, per subscription, the partly settled records it has settled.
   */
  commit (deliveries?: ReadonlyMap<string, Iterable<bigint>>, owner?: string): { offset: bigint, metadata: string | undefined } | undefined {
    const watermark = this.#watermark
    const offset = watermark?.commitOffset()
    if (watermark === undefined || offset === undefined) return undefined
    return { offset, metadata: encodeSettledOffsets(offset, watermark.settledAboveWatermark(), deliveries, owner === undefined ? {} : { owner }) }
  }
}
