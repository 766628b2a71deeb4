// The settled watermark of one source partition (DESIGN §4, contract C1):
// the offset to commit is the lowest offset whose deliveries are not all
// settled, so a crash at any moment re-reads everything unsettled.

// Below this many dead slots the arrays are left alone; above it, and once
// dead slots outnumber live ones, they are dropped in one copy (amortised O(1)).
const COMPACT_MIN_DEAD = 1024
const INITIAL_CAPACITY = 64
const SETTLED = 1

/**
 * Tracks which offsets of one partition are still unsettled and computes the
 * commit position.
 *
 * Offsets are `bigint` at the interface because Kafka offsets are int64
 * (kafkajs hands them over as strings: `BigInt(message.offset)`). Inside,
 * they are doubles in a typed array beside a byte of state each: 9 bytes per
 * offset in the window instead of a bigint, an array slot and a set entry
 * (about 70 bytes), which matters for a retry partition holding a backlog of
 * parked deliveries (issue 14). Each is stored as its distance from the
 * first offset tracked (`#base`), exact while a window spans less than 2^53
 * offsets — whatever the offsets themselves are.
 * Records are tracked in increasing offset order, with gaps allowed
 * (compacted topics, transaction markers); they may settle in any order.
 * Tracking is amortised O(1); settling and lookups are O(log window) by
 * binary search, O(1) when the offset is the oldest unsettled one (the
 * common case: records mostly settle in order).
 */
export class PartitionWatermark {
  // Tracked offsets in increasing order in #offsets[0, #length); entries
  // before #head are behind the watermark (settled, and no unsettled offset
  // precedes them). #state[i] is SETTLED once #offsets[i] settled.
  #offsets = new Float64Array(INITIAL_CAPACITY)
  #state = new Uint8Array(INITIAL_CAPACITY)
  #length = 0
  #head = 0
  #unsettled = 0
  #highest: bigint | undefined
  #start: bigint | undefined
  #base: bigint | undefined

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
    if (this.#unsettled > 0) {
      throw new RangeError(`cannot move the start to ${offset}: ${this.#unsettled} records are still in flight`)
    }
    this.#offsets = new Float64Array(INITIAL_CAPACITY)
    this.#state = new Uint8Array(INITIAL_CAPACITY)
    this.#length = 0
    this.#head = 0
    this.#highest = undefined
    this.#base = undefined
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
    const base = this.#base ?? offset
    this.#base = base
    if (offset - base > MAX_EXACT) throw new RangeError(`offset ${offset} is 2^53 or more past ${base}, the first one tracked`)
    if (this.#length === this.#offsets.length) this.#grow()
    this.#offsets[this.#length] = Number(offset - base)
    this.#state[this.#length] = 0
    this.#length++
    this.#unsettled++
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
    const index = this.#indexOf(offset)
    if (index < 0 || this.#state[index] === SETTLED) return false
    this.#state[index] = SETTLED
    this.#unsettled--
    let head = this.#head
    // Each tracked offset is passed exactly once, so the scan is amortised O(1).
    while (head < this.#length && this.#state[head] === SETTLED) head++
    this.#head = head
    if (head >= COMPACT_MIN_DEAD && head * 2 >= this.#length) this.#dropBehindHead()
    return true
  }

  /**
   * The offset to commit: the lowest unsettled tracked offset; when all are
   * settled, one past the highest tracked offset; when nothing was tracked,
   * the start (`undefined` if no start was given, i.e. nothing to commit).
   */
  commitOffset (): bigint | undefined {
    if (this.#head < this.#length) return this.#offsetAt(this.#head)
    if (this.#highest !== undefined) return this.#highest + 1n
    return this.#start
  }

  /** Records tracked but not yet settled. */
  get inFlightCount (): number {
    return this.#unsettled
  }

  /**
   * Records from the watermark to the highest tracked offset, settled or not:
   * what a crash now would redeliver. Compare it with the window limit for
   * backpressure; unlike {@link inFlightCount} it also grows while one slow
   * record holds the watermark back.
   */
  get windowSize (): number {
    return this.#length - this.#head
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
    for (let i = this.#head; i < this.#length; i++) {
      if (this.#state[i] === SETTLED) yield this.#offsetAt(i)
    }
  }

  /** Whether `offset` is tracked and not yet settled. */
  isInFlight (offset: bigint): boolean {
    const index = this.#indexOf(offset)
    return index >= 0 && this.#state[index] !== SETTLED
  }

  // The index of `offset` at or after the head, or -1: behind the head
  // everything is settled.
  #indexOf (offset: bigint): number {
    const base = this.#base
    if (base === undefined || offset < base || offset - base > MAX_EXACT) return -1
    const target = Number(offset - base)
    const offsets = this.#offsets
    let low = this.#head
    let high = this.#length - 1
    if (low > high) return -1
    if (offsets[low] === target) return low
    while (low <= high) {
      const middle = (low + high) >>> 1
      const value = offsets[middle] as number
      if (value === target) return middle
      if (value < target) low = middle + 1
      else high = middle - 1
    }
    return -1
  }

  #offsetAt (index: number): bigint {
    return (this.#base as bigint) + BigInt(this.#offsets[index] as number)
  }

  #grow (): void {
    // Dead slots first: a window that only slides need not grow.
    if (this.#head >= this.#length / 2 && this.#head > 0) {
      this.#dropBehindHead()
      if (this.#length < this.#offsets.length) return
    }
    const offsets = new Float64Array(this.#offsets.length * 2)
    offsets.set(this.#offsets.subarray(0, this.#length))
    const state = new Uint8Array(this.#state.length * 2)
    state.set(this.#state.subarray(0, this.#length))
    this.#offsets = offsets
    this.#state = state
  }

  #dropBehindHead (): void {
    const head = this.#head
    this.#offsets.copyWithin(0, head, this.#length)
    this.#state.copyWithin(0, head, this.#length)
    this.#length -= head
    this.#head = 0
    // A window that shrank a lot gives its memory back.
    if (this.#offsets.length > INITIAL_CAPACITY && this.#length * 4 < this.#offsets.length) {
      const capacity = Math.max(INITIAL_CAPACITY, this.#length * 2)
      this.#offsets = this.#offsets.slice(0, capacity)
      this.#state = this.#state.slice(0, capacity)
    }
  }
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER)
