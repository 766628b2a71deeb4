import { timerDelay } from '../timer-delay.js'

/**
 * Many keyed deadlines on one `setTimeout`: a binary min-heap of (at, key)
 * with lazy deletion. Rescheduling or cancelling a key leaves its old heap
 * entry behind; it is skipped when it surfaces. Used by the retry lane, which
 * may hold tens of thousands of keys waiting for their backoff.
 */
export class DueTimers {
  readonly #heap: Array<{ at: number, key: string }> = []
  readonly #due = new Map<string, number>()
  readonly #onDue: (key: string) => void
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity

  constructor (onDue: (key: string) => void, now: () => number = Date.now) {
    this.#onDue = onDue
    this.#now = now
  }

  get size (): number {
    return this.#due.size
  }

  schedule (key: string, at: number): void {
    this.#due.set(key, at)
    this.#push({ at, key })
    if (at < this.#timerAt) this.#arm()
  }

  /** When `key` is due, if it waits for a deadline. */
  dueAt (key: string): number | undefined {
    return this.#due.get(key)
  }

  cancel (key: string): void {
    this.#due.delete(key)
  }

  close (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
    this.#due.clear()
    this.#heap.length = 0
  }

  #fire (): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    const now = this.#now()
    for (;;) {
      const top = this.#heap[0]
      if (top === undefined || top.at > now) break
      this.#pop()
      if (this.#due.get(top.key) !== top.at) continue
      this.#due.delete(top.key)
      this.#onDue(top.key)
    }
    this.#arm()
  }

  #arm (): void {
    // Drop stale entries at the top so the timer aims at a live deadline.
    while (this.#heap.length > 0) {
      const top = this.#heap[0] as { at: number, key: string }
      if (this.#due.get(top.key) === top.at) break
      this.#pop()
    }
    const top = this.#heap[0]
    if (top === undefined) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timerAt = top.at
    this.#timer = setTimeout(() => this.#fire(), timerDelay(top.at - this.#now()))
    this.#timer.unref()
  }

  #push (entry: { at: number, key: string }): void {
    const heap = this.#heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as { at: number }).at <= entry.at) break
      heap[i] = heap[parent] as { at: number, key: string }
      i = parent
    }
    heap[i] = entry
  }

  #pop (): void {
    const heap = this.#heap
    const last = heap.pop()
    if (last === undefined || heap.length === 0) return
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      let smallestAt = last.at
      if (left < heap.length && (heap[left] as { at: number }).at < smallestAt) { smallest = left; smallestAt = (heap[left] as { at: number }).at }
      if (right < heap.length && (heap[right] as { at: number }).at < smallestAt) smallest = right
      if (smallest === i) break
      heap[i] = heap[smallest] as { at: number, key: string }
      i = smallest
    }
    heap[i] = last
  }
}
