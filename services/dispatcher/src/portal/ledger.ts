// What the portal must remember across instances: which links have been
// used (a link signs in once) and which sessions are revoked. A contract
// below the adapters: the admin API reads it, and the Kafka ledger
// (kafka/portal-ledger.ts) implements it for every instance; the memory
// ledger serves one process and the tests.

export interface PortalLedger {
  /**
   * Claims the one use of link `id`: true for the first claim anywhere,
   * false for every later one. `until` is when the claim may be forgotten.
   */
  claimLink: (id: string, until: number) => Promise<boolean>
  /** Revokes session `id` (and its link) on every instance. */
  revoke: (id: string, until: number) => Promise<void>
  isRevoked: (id: string) => boolean
}

/** One process's ledger: exact, but not shared. */
export class MemoryPortalLedger implements PortalLedger {
  readonly #claimed = new Map<string, number>()
  readonly #revoked = new Map<string, number>()
  readonly #now: () => number

  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  async claimLink (id: string, until: number): Promise<boolean> {
    this.#forgetExpired()
    if (this.#claimed.has(id)) return false
    this.#claimed.set(id, until)
    return true
  }

  async revoke (id: string, until: number): Promise<void> {
    this.#revoked.set(id, until)
  }

  isRevoked (id: string): boolean {
    return this.#revoked.has(id)
  }

  #forgetExpired (): void {
    const now = this.#now()
    for (const map of [this.#claimed, this.#revoked]) {
      for (const [id, until] of map) if (until <= now) map.delete(id)
    }
  }
}
