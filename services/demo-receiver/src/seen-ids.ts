/**
 * The webhook ids a receiver has already accepted, oldest forgotten first
 * once `capacity` is reached, so a long demo run stays within bounded memory.
 */
export class SeenIds {
  readonly #ids = new Set<string>()
  readonly #capacity: number

  constructor (capacity = 100_000) {
    this.#capacity = capacity
  }

  has (id: string): boolean {
    return this.#ids.has(id)
  }

  add (id: string): void {
    this.#ids.add(id)
    if (this.#ids.size > this.#capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      for (const oldest of this.#ids) {
        this.#ids.delete(oldest)
        break
      }
    }
  }

  get size (): number {
    return this.#ids.size
  }
}
