// The settled watermark of one source partition (DESIGN §4, contract C1):
// the offset to commit is the lowest offset whose deliveries are not all
// settled, so a crash at any moment re-reads everything unsettled.

// Below this many dead slots the array is left alone; above it, and once dead
// slots outnumber live ones, they are dropped in one copy (amortised O(1)).
const COMPACT_MIN_DEAD = 1024

/**
 * Tracks which offsets of one partition are still unsettled and computes the
 * commit position.
 *
 * Offsets are `bigint` because Kafka offsets are int64 (kafkajs hands them
 * over as strings: `BigInt(message.offset)`). Records are tracked in
 * increasing offset order, with gaps allowed (compacted topics, transaction
 * markers); they may settle in any order. Every operation is amortised O(1).
 */
export class PartitionWatermark {
  // Tracked offsets in increasing order; entries before #head are behind the
  // watermark (settled, and no unsettled offset precedes them).
  #offsets: bigint[] = []
  #head = 0
  #unsettled = new Set<bigint>()
  #highest: bigint | undefined
  #start: bigint | undefined

  /**
   * @param start - the partition's committed position at assignment, reported
   *   by {@link commitOffset} until the first record is tracked
   */
  constructor (start?: bigint) {
    this.#start = start
  }

  /**
   * Resets to an empty window positioned at `offset` (the committed position
   * of a new assignment). Throws a `RangeError` while records are in flight:
   * forgetting them would let the commit pass unsettled records.
   */
  setStart (offset: bigint): void {
    if (this.#unsettled.size > 0) {
      throw new RangeError(`cannot move the start to ${offset}: ${this.#unsettled.size} records are still in flight`)
    }
    this.#offsets = []
    this.#head = 0
    this.#highest = undefined
    this.#start = offset
  }

  /**
   * Adds a record that has entered the window. Offsets must strictly increase
   * and must not be below the start; a violation throws a `RangeError`
   * because it would move the commit position backwards or lose a record.
   */
  track (offset: bigint): void {
    if (this.#highest !== undefined && offset <= this.#highest) {
      throw new RangeError(`offset ${offset} tracked after ${this.#highest}: offsets must strictly increase`)
    }
    if (this.#highest === undefined && this.#start !== undefined && offset < this.#start) {
      throw new RangeError(`offset ${offset} is below the start position ${this.#start}`)
    }
    this.#offsets.push(offset)
    this.#unsettled.add(offset)
    this.#highest = offset
  }

  /**
   * Marks every delivery of the record at `offset` as settled.
   *
   * Idempotent: settling an offset that is not in flight (never tracked, or
   * already settled) changes nothing and returns `false`, so a late or
   * duplicate completion can never move the commit past an unsettled record;
   * the caller may count it as an anomaly. Returns `true` when the offset was
   * in flight.
   */
  settle (offset: bigint): boolean {
    if (!this.#unsettled.delete(offset)) return false
    const offsets = this.#offsets
    let head = this.#head
    // Each tracked offset is passed exactly once, so the scan is amortised O(1).
    while (head < offsets.length && !this.#unsettled.has(offsets[head] as bigint)) head++
    this.#head = head
    if (head >= COMPACT_MIN_DEAD && head * 2 >= offsets.length) {
      this.#offsets = offsets.slice(head)
      this.#head = 0
    }
    return true
  }

  /**
   * The offset to commit: the lowest unsettled tracked offset; when all are
   * settled, one past the highest tracked offset; when nothing was tracked,
   * the start (`undefined` if no start was given, i.e. nothing to commit).
   */
  commitOffset (): bigint | undefined {
    const lowest = this.#offsets[this.#head]
    if (lowest !== undefined) return lowest
    if (this.#highest !== undefined) return this.#highest + 1n
    return this.#start
  }

  /** Records tracked but not yet settled. */
  get inFlightCount (): number {
    return this.#unsettled.size
  }

  /**
   * Records from the watermark to the highest tracked offset, settled or not:
   * what a crash now would redeliver. Compare it with the window limit for
   * backpressure; unlike {@link inFlightCount} it also grows while one slow
   * record holds the watermark back.
   */
  get windowSize (): number {
    return this.#offsets.length - this.#head
  }

  /** The highest offset tracked since the start, if any. */
  get highestTracked (): bigint | undefined {
    return this.#highest
  }

  /**
   * Settled offsets above the watermark, ascending: what a commit's
   * metadata can remember so a restart does not redeliver them.
   */
  * settledAboveWatermark (): Generator<bigint> {
    for (let i = this.#head; i < this.#offsets.length; i++) {
      const offset = this.#offsets[i] as bigint
      if (!this.#unsettled.has(offset)) yield offset
    }
  }

  /** Whether `offset` is tracked and not yet settled. */
  isInFlight (offset: bigint): boolean {
    return this.#unsettled.has(offset)
  }
}
