// Per ordering key FIFO queues with a ready list (DESIGN §4, contracts C2 and
// C3): at most one item per key is out at a time, so a key's deliveries run in
// order, while any number of keys run side by side.

/**
 * The ordering key of a delivery: one FIFO per (subscription, account).
 * NUL cannot appear in either id, so distinct pairs never collide.
 */
export function orderingKey (subscriptionId: string, accountId: string): string {
  return `${subscriptionId}\u0000${accountId}`
}

/** An item handed out by {@link KeyQueues.takeReady}, with the key to report back on. */
export interface ReadyItem<T> {
  readonly key: string
  readonly item: T
}

// A FIFO with amortised O(1) push and shift (Array#shift is O(n) once V8
// stops left-trimming in place).
class Fifo<T> {
  #items: T[] = []
  #head = 0

  get length (): number {
    return this.#items.length - this.#head
  }

  push (item: T): void {
    this.#items.push(item)
  }

  peek (): T | undefined {
    return this.#items[this.#head]
  }

  shift (): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head] as T
    // Drop the reference so a long-lived queue does not retain shifted items.
    ;(this.#items as Array<T | undefined>)[this.#head] = undefined
    this.#head++
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head >= 64 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /**
   * Puts `item` before the first item, from position `from` on, that
   * `goesBefore` says it precedes; at the back when none does. Returns its
   * position. Checks the back first: items nearly always arrive in order.
   */
  insert (item: T, goesBefore: (queued: T) => boolean, from: number): number {
    const last = this.#items.length - 1
    if (last < this.#head + from || !goesBefore(this.#items[last] as T)) {
      this.#items.push(item)
      return this.length - 1
    }
    let at = this.#head + from
    while (at < last && !goesBefore(this.#items[at] as T)) at++
    this.#items.splice(at, 0, item)
    return at - this.#head
  }

  /**
   * The last item that `matches`, looking from the back and giving up at the
   * first item `isBefore` says lies before what is sought (items are kept in
   * an order the caller knows, so a lookup of something new stops at once).
   */
  findFromBack (matches: (item: T) => boolean, isBefore: (item: T) => boolean): T | undefined {
    for (let at = this.#items.length - 1; at >= this.#head; at--) {
      const item = this.#items[at] as T
      if (matches(item)) return item
      if (isBefore(item)) return undefined
    }
    return undefined
  }

  * values (): Generator<T> {
    for (let at = this.#head; at < this.#items.length; at++) yield this.#items[at] as T
  }

  /** Removes and returns every item after the first `keep`. */
  takeAfter (keep: number): T[] {
    const from = this.#head + keep
    const taken = this.#items.slice(from)
    if (keep === 0) {
      this.#items = []
      this.#head = 0
    } else {
      this.#items.length = Math.min(this.#items.length, from)
    }
    return taken
  }
}

interface KeyState<T> {
  readonly key: string
  readonly items: Fifo<T>
  /** The head has been handed out and not yet completed or released. */
  busy: boolean
  blocked: boolean
  /** This state has an entry in the ready list (possibly stale). */
  listed: boolean
  /** The state was dropped from the map; its ready-list entry is stale. */
  removed: boolean
}

/**
 * FIFO queues keyed by ordering key, handing out the heads of keys that are
 * neither busy nor blocked, round-robin across keys.
 *
 * Invariants: a key's items come out strictly in enqueue order; a key has at
 * most one item out at a time (its head), which stays queued until
 * {@link complete} pops it or {@link release} returns it. Only keys that could
 * be handed out sit in the ready list, so {@link takeReady} costs O(items
 * taken + keys skipped by `canStart`), not O(all keys).
 */
export class KeyQueues<T> {
  #keys = new Map<string, KeyState<T>>()
  // Ready keys in round-robin order. Entries go stale instead of being removed
  // (a key blocked or drained while listed) and are skipped when reached.
  #ready = new Fifo<KeyState<T>>()
  #size = 0
  #keysWithItems = 0

  /** Items queued across all keys, including heads that are out. */
  get size (): number {
    return this.#size
  }

  /** Keys that hold at least one item. */
  get keyCount (): number {
    return this.#keysWithItems
  }

  /** True when no key holds an item (nothing queued, nothing out). */
  isIdle (): boolean {
    return this.#size === 0
  }

  /** Appends `item` to the queue of `key`. */
  enqueue (key: string, item: T): void {
    let state = this.#keys.get(key)
    if (state === undefined) {
      state = { key, items: new Fifo(), busy: false, blocked: false, listed: false, removed: false }
      this.#keys.set(key, state)
    }
    if (state.items.length === 0) this.#keysWithItems++
    state.items.push(item)
    this.#size++
    this.#list(state)
  }

  /**
   * Puts `item` into the queue of `key` before the first waiting item that
   * `goesBefore` says it precedes (never before a head that is out); at the
   * back when none does. Returns true when it became the key's head.
   */
  insert (key: string, item: T, goesBefore: (queued: T) => boolean): boolean {
    let state = this.#keys.get(key)
    if (state === undefined) {
      state = { key, items: new Fifo(), busy: false, blocked: false, listed: false, removed: false }
      this.#keys.set(key, state)
    }
    if (state.items.length === 0) this.#keysWithItems++
    const at = state.items.insert(item, goesBefore, state.busy ? 1 : 0)
    this.#size++
    this.#list(state)
    return at === 0
  }

  /**
   * Hands out up to `limit` items: the heads of ready keys, in round-robin
   * order, one per key, marking each key busy until {@link complete} or
   * {@link release}. A key whose head fails `canStart` (e.g. its endpoint is
   * at its concurrency cap) is skipped and moves to the back of the round;
   * skipped keys keep their relative order.
   */
  takeReady (limit: number, canStart?: (item: T) => boolean): Array<ReadyItem<T>> {
    const taken: Array<ReadyItem<T>> = []
    // Visit each listed entry at most once per call, so keys that keep
    // failing canStart cannot make this loop spin.
    let budget = this.#ready.length
    while (taken.length < limit && budget > 0) {
      budget--
      const state = this.#ready.shift() as KeyState<T>
      state.listed = false
      if (!this.#isReady(state)) continue
      const head = state.items.peek() as T
      let startable: boolean
      try {
        startable = canStart === undefined || canStart(head)
      } catch (err) {
        // Nothing is handed out when canStart throws: the keys taken so far
        // would otherwise stay busy forever, and this one off the ready list.
        this.#list(state)
        for (const { key } of taken) {
          const takenState = this.#keys.get(key) as KeyState<T>
          takenState.busy = false
          this.#list(takenState)
        }
        throw err
      }
      if (!startable) {
        this.#list(state)
        continue
      }
      state.busy = true
      taken.push({ key: state.key, item: head })
    }
    return taken
  }

  /**
   * Pops the head of `key` (its attempt finished) and frees the key for its
   * next item. Throws if the key has no item out: popping an item that never
   * ran would silently drop a delivery.
   */
  complete (key: string): T {
    const state = this.#busyState(key, 'complete')
    const head = state.items.shift() as T
    this.#size--
    if (state.items.length === 0) this.#keysWithItems--
    state.busy = false
    this.#settle(state)
    return head
  }

  /**
   * Removes the head of `key` that is not out (it is settled without an
   * attempt). Throws if the key has no item, or its head is out.
   */
  dropHead (key: string): T {
    const state = this.#keys.get(key)
    if (state === undefined || state.busy || state.items.length === 0) {
      throw new Error(`cannot drop the head of key ${JSON.stringify(key)}: it has none, or it is out`)
    }
    const head = state.items.shift() as T
    this.#size--
    if (state.items.length === 0) this.#keysWithItems--
    this.#settle(state)
    return head
  }

  /**
   * Frees `key` without popping: its head was handed out but not started and
   * will be handed out again. Throws if the key has no item out.
   */
  release (key: string): void {
    const state = this.#busyState(key, 'release')
    state.busy = false
    this.#settle(state)
  }

  /**
   * Stops handing out items of `key` (its head was parked, DESIGN §4). An item
   * already out stays out. Blocking persists while the key is empty, so items
   * enqueued later also wait, until {@link unblock}.
   */
  block (key: string): void {
    let state = this.#keys.get(key)
    if (state === undefined) {
      state = { key, items: new Fifo(), busy: false, blocked: true, listed: false, removed: false }
      this.#keys.set(key, state)
      return
    }
    // A listed entry goes stale and is skipped when reached.
    state.blocked = true
  }

  /** Lets `key` be handed out again. */
  unblock (key: string): void {
    const state = this.#keys.get(key)
    if (state === undefined || !state.blocked) return
    state.blocked = false
    this.#settle(state)
  }

  /** Whether `key` is blocked. */
  isBlocked (key: string): boolean {
    return this.#keys.get(key)?.blocked === true
  }

  /** Whether `key` has its head out. */
  isBusy (key: string): boolean {
    return this.#keys.get(key)?.busy === true
  }

  /** The head item of `key` (whether out or not), or `undefined` if it has none. */
  peek (key: string): T | undefined {
    return this.#keys.get(key)?.items.peek()
  }

  /** An item of `key` found as {@link Fifo.findFromBack} finds it. */
  findFromBack (key: string, matches: (item: T) => boolean, isBefore: (item: T) => boolean): T | undefined {
    return this.#keys.get(key)?.items.findFromBack(matches, isBefore)
  }

  /** Every queued item with its key (heads that are out included), key by key, in queue order. */
  * entries (): Generator<[string, T]> {
    for (const state of this.#keys.values()) {
      for (const item of state.items.values()) yield [state.key, item]
    }
  }

  /** Items queued for `key`, including a head that is out. */
  lengthOf (key: string): number {
    return this.#keys.get(key)?.items.length ?? 0
  }

  /**
   * Removes and returns, in order, every item of `key` that is not out: all
   * of them, or all but the head when the key is busy (the head belongs to
   * its running attempt, which still calls {@link complete} or
   * {@link release}). Used to park the rest of a key behind a failed head.
   * The blocked flag is unchanged.
   */
  drainKey (key: string): T[] {
    const state = this.#keys.get(key)
    if (state === undefined) return []
    const hadItems = state.items.length > 0
    const drained = state.items.takeAfter(state.busy ? 1 : 0)
    this.#size -= drained.length
    if (hadItems && state.items.length === 0) this.#keysWithItems--
    this.#settle(state)
    return drained
  }

  #isReady (state: KeyState<T>): boolean {
    return !state.removed && !state.busy && !state.blocked && state.items.length > 0
  }

  #list (state: KeyState<T>): void {
    if (state.listed || !this.#isReady(state)) return
    state.listed = true
    this.#ready.push(state)
  }

  // After a state change: list the key if it became ready, or forget it if
  // it holds nothing worth remembering.
  #settle (state: KeyState<T>): void {
    if (!state.busy && !state.blocked && state.items.length === 0) {
      state.removed = true
      this.#keys.delete(state.key)
      return
    }
    this.#list(state)
  }

  #busyState (key: string, operation: string): KeyState<T> {
    const state = this.#keys.get(key)
    if (state === undefined || !state.busy) {
      throw new Error(`cannot ${operation} key ${JSON.stringify(key)}: it has no item out`)
    }
    return state
  }
}
