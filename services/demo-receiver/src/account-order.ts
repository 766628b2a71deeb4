/**
 * Ordering from the body alone (the integrator guide's recipe): per account,
 * the last `accountSequence` accepted. The next one is `last + 1`; a higher
 * one means events in between have not arrived (yet: a retry may still bring
 * them), a lower or equal one is a late or repeated delivery. Sequences are
 * compared as bigints, so values beyond 2^53 compare exactly.
 */
export type SequenceVerdict =
  | { kind: 'first' }
  | { kind: 'next' }
  | { kind: 'gap', missing: bigint }
  | { kind: 'stale', last: bigint }

export class AccountOrder {
  readonly #last = new Map<string, bigint>()
  readonly #capacity: number

  constructor (capacity = 100_000) {
    this.#capacity = capacity
  }

  /** Judges `sequence` against the account's last one and remembers the higher of the two. */
  observe (accountId: string, sequence: bigint): SequenceVerdict {
    const last = this.#last.get(accountId)
    if (last !== undefined && sequence <= last) return { kind: 'stale', last }
    this.#last.delete(accountId)
    this.#last.set(accountId, sequence)
    if (this.#last.size > this.#capacity) {
      // Insertion order: the account heard from least recently goes first.
      for (const oldest of this.#last.keys()) {
        this.#last.delete(oldest)
        break
      }
    }
    if (last === undefined) return { kind: 'first' }
    return sequence === last + 1n ? { kind: 'next' } : { kind: 'gap', missing: sequence - last - 1n }
  }
}

/** The note a verdict adds to the receiver's line; undefined when nothing is amiss. */
export function describeVerdict (verdict: SequenceVerdict): string | undefined {
  if (verdict.kind === 'gap') return `gap: ${verdict.missing} earlier event(s) of this account not seen yet`
  if (verdict.kind === 'stale') return `out of order: account already at seq ${verdict.last}`
  return undefined
}

/**
 * The account and exact sequence of a body: `data.accountSequence` read from
 * the JSON text so a value beyond 2^53 is not rounded. Undefined when the
 * body has none (a `webhook.test`).
 */
export function accountPosition (text: string): { accountId: string, sequence: bigint } | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text, (key, value: unknown, context?: { source?: string }) =>
      key === 'accountSequence' && typeof value === 'number' && context?.source !== undefined ? BigInt(context.source) : value)
  } catch {
    return undefined
  }
  const data = (parsed as { data?: { accountId?: unknown, accountSequence?: unknown } } | null)?.data
  if (typeof data?.accountId !== 'string' || typeof data.accountSequence !== 'bigint') return undefined
  return { accountId: data.accountId, sequence: data.accountSequence }
}
