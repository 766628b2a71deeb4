/**
 * This member's lease on its partitions (DESIGN §4a). The coordinator
 * expires a member one session timeout after the last heartbeat it received;
 * the member counts from the last answer it got, less a margin for the round
 * trip (a sixth of the session timeout, at most 5 s), so its lease always
 * ends before the group can have moved its partitions. While the lease has
 * lapsed, nothing starts and nothing is parked.
 */
export class GroupLease {
  readonly #validForMs: number
  readonly #now: () => number
  #renewedAt = -Infinity

  constructor (sessionTimeoutMs: number, now: () => number) {
    this.#validForMs = sessionTimeoutMs - Math.min(5_000, sessionTimeoutMs / 6)
    this.#now = now
  }

  /** A heartbeat was answered, or the member (re)joined the group. */
  renew (): void {
    this.#renewedAt = this.#now()
  }

  valid (): boolean {
    return this.#now() - this.#renewedAt < this.#validForMs
  }
}
