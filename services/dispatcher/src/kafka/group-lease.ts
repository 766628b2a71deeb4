/**
 * This member's lease on its partitions (DESIGN §4a). The coordinator
 * expires a member one session timeout after the last heartbeat it received;
 * the member counts one session timeout from the last answer it got. Its
 * lease may outlast the coordinator's view by a round trip, which a new
 * owner's HANDOVER_WAIT_MS (session timeout + 30 s) covers. No margin is
 * taken off: on a loaded machine a late heartbeat would otherwise stop all
 * work while the member is still in the group. While the lease has lapsed,
 * nothing starts and nothing is parked.
 */
export class GroupLease {
  readonly #validForMs: number
  readonly #now: () => number
  #renewedAt = -Infinity

  constructor (sessionTimeoutMs: number, now: () => number) {
    this.#validForMs = sessionTimeoutMs
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
