// One page of a dead-letter listing, with the counts over every match.
// Letters are listed by (partition, offset), so a page ends at a position
// and the next one starts after it: the cursor. Pure; the scan that feeds it
// is redrive/kafka-dead-letters.ts.
import type { DeadLetterState } from './lifecycle.js'

/** Where a listing stands: the last letter of the previous page. */
export interface DeadLetterPosition {
  partition: number
  offset: bigint
}

export interface PageRequest {
  /** Letters per page, at least 1. */
  limit: number
  /** List only letters after this position. */
  after?: DeadLetterPosition
  /** List and count only letters in these states; all when absent or empty. */
  states?: readonly DeadLetterState[]
}

export interface Page<T> {
  items: T[]
  /** The last listed letter's position, when more letters follow. */
  next?: DeadLetterPosition
  /** Every letter that matches (all pages, not only this one). */
  total: number
  countByReason: Record<string, number>
  countByState: Partial<Record<DeadLetterState, number>>
}

const before = (a: DeadLetterPosition, b: DeadLetterPosition): boolean =>
  a.partition < b.partition || (a.partition === b.partition && a.offset < b.offset)

/**
 * Collects one page from letters offered in any order across partitions
 * (each partition's in offset order). Keeps at most `limit + 1` letters per
 * partition, since no page needs more of one partition.
 */
export class PageCollector<T> {
  readonly #request: PageRequest
  readonly #byPartition = new Map<number, Array<{ offset: bigint, item: T }>>()
  #total = 0
  readonly #byReason: Record<string, number> = {}
  readonly #byState: Partial<Record<DeadLetterState, number>> = {}

  constructor (request: PageRequest) {
    this.#request = request
  }

  /** A letter that matches the filter, in its state. */
  offer (position: DeadLetterPosition, reason: string | undefined, state: DeadLetterState, item: () => T): void {
    const states = this.#request.states
    if (states !== undefined && states.length > 0 && !states.includes(state)) return
    this.#total++
    const label = reason ?? 'unknown'
    this.#byReason[label] = (this.#byReason[label] ?? 0) + 1
    this.#byState[state] = (this.#byState[state] ?? 0) + 1
    const after = this.#request.after
    if (after !== undefined && !before(after, position)) return
    const kept = this.#byPartition.get(position.partition) ?? []
    if (kept.length > this.#request.limit) return
    kept.push({ offset: position.offset, item: item() })
    this.#byPartition.set(position.partition, kept)
  }

  page (): Page<T> {
    const all = [...this.#byPartition]
      .sort(([a], [b]) => a - b)
      .flatMap(([partition, kept]) => kept.map((k) => ({ partition, ...k })))
    const items = all.slice(0, this.#request.limit)
    const page: Page<T> = { items: items.map((k) => k.item), total: this.#total, countByReason: { ...this.#byReason }, countByState: { ...this.#byState } }
    const last = items.at(-1)
    if (all.length > items.length && last !== undefined) page.next = { partition: last.partition, offset: last.offset }
    return page
  }
}
