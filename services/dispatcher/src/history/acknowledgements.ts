/**
 * Counts records handed in and records acknowledged, in order, and lets a
 * caller wait until everything handed in before it is acknowledged: what a
 * commit waits for before it may be written (DESIGN §10).
 */
export class Acknowledgements {
  #recorded = 0
  #acknowledged = 0
  #waiters: Array<{ upTo: number, resolve: () => void, reject: (err: Error) => void }> = []
  #closed = false

  get pending (): number {
    return this.#recorded - this.#acknowledged
  }

  recorded (count = 1): void {
    this.#recorded += count
  }

  acknowledged (count: number): void {
    this.#acknowledged += count
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.upTo > this.#acknowledged) return true
      waiter.resolve()
      return false
    })
  }

  /** Resolves once every record handed in before the call is acknowledged; rejects if closed first. */
  async flush (what: string): Promise<void> {
    const upTo = this.#recorded
    if (this.#acknowledged >= upTo) return
    if (this.#closed) throw new Error(`${what} closed with records unwritten`)
    await new Promise<void>((resolve, reject) => { this.#waiters.push({ upTo, resolve, reject }) })
  }

  /** Waiting flushes reject. */
  close (what: string): void {
    this.#closed = true
    const err = new Error(`${what} closed with records unwritten`)
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err)
  }
}
