import type { HistoryStore, IndexedAttempt } from './store.js'

// Rows per transaction at most. A fetch of an indexer catching up holds
// tens of thousands; SQLite's WAL grows to the largest transaction's pages
// and keeps that size. Following the topic, a fetch brings about 4,000.
const MAX_ROWS = 5000

/**
 * Writes the entries handed in during one turn of the event loop with one
 * `store.insert`, one transaction (one per MAX_ROWS). The indexer gets a
 * fetch as one batch per partition, handled side by side; a commit writes
 * out every page its transaction touched, and the pages of the event index
 * are spread at random, so one commit per fetch instead of one per
 * partition costs less per row.
 *
 * Each caller's promise settles with the transaction its entries joined:
 * it resolves once they are written (only then may their offsets be
 * committed) and rejects with the transaction's error.
 */
export class JoinedInserts {
  readonly #store: Pick<HistoryStore, 'insert'>
  readonly #onWritten: (added: number) => void
  #open: { entries: IndexedAttempt[], written: Promise<void> } | undefined

  /** `onWritten` is told how many rows each transaction added. */
  constructor (store: Pick<HistoryStore, 'insert'>, onWritten: (added: number) => void) {
    this.#store = store
    this.#onWritten = onWritten
  }

  async insert (entries: readonly IndexedAttempt[]): Promise<void> {
    if (entries.length === 0) return
    let open = this.#open
    if (open === undefined) {
      const joined: IndexedAttempt[] = []
      // setImmediate runs once the batches of the fetch in hand are decoded:
      // their work is synchronous or microtasks.
      const written = new Promise((resolve) => setImmediate(resolve)).then(async () => {
        this.#open = undefined
        for (let i = 0; i < joined.length; i += MAX_ROWS) this.#onWritten(await this.#store.insert(joined.slice(i, i + MAX_ROWS)))
      })
      open = this.#open = { entries: joined, written }
    }
    for (const entry of entries) open.entries.push(entry)
    await open.written
  }
}
