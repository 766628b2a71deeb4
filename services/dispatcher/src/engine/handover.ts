import type { IHeaders } from 'kafkajs'
import { header, H, type OutgoingRecord } from './parked-record.js'

/**
 * Partition handover (DESIGN §4a): claim and release markers on the retry
 * partition, and the gate a new owner waits at. Pure: no Kafka I/O here.
 *
 * Every owner of a pair writes, through the pair's one ordered sender,
 * - a claim when it takes the pair, before anything else;
 * - a release when it gives the pair up, after the last park it will ever
 *   make for it (parks not yet sent are dropped; a send already out is
 *   awaited) and after its running deliveries have finished.
 * Every park carries its owner's token (`whd-owner`).
 *
 * A new owner reads the retry partition from the committed position up to
 * its own claim, and past it, and opens only when every claim it read before
 * its own, and the owner the committed offset's metadata names (whose claim
 * may lie below the commit), has been released: every park a previous owner made is then in the
 * log before the release, so it is read (and its key blocked) before the new
 * owner attempts anything. A previous owner that never releases (killed, or
 * stalled) is waited out: after `waitMs` (the session timeout plus the time a
 * produce request already sent may take to land) it cannot park any more,
 * because a member stops parking and delivering once its group lease (last
 * heartbeat + session timeout) has run out.
 */
export type HandoverMarker = { kind: 'claim' | 'release', owner: string }

const markerKinds = new Set(['claim', 'release'])

function marker (kind: HandoverMarker['kind'], owner: string, now: number): OutgoingRecord {
  return { key: null, value: null, headers: { [H.handover]: kind, [H.owner]: owner, [H.parkedAt]: String(now) } }
}

/** The record that claims a pair for `owner`. */
export function claimRecord (owner: string, now: number): OutgoingRecord {
  return marker('claim', owner, now)
}

/** The record that releases a pair `owner` held. */
export function releaseRecord (owner: string, now: number): OutgoingRecord {
  return marker('release', owner, now)
}

/** The marker a retry-topic record is, if it is one. */
export function readHandoverMarker (headers: IHeaders | undefined): HandoverMarker | undefined {
  const kind = header(headers ?? {}, H.handover)
  const owner = header(headers ?? {}, H.owner)
  if (kind === undefined || owner === undefined || !markerKinds.has(kind)) return undefined
  return { kind: kind as HandoverMarker['kind'], owner }
}

/** Where a new owner stands in taking over a pair. */
export class HandoverGate {
  readonly owner: string
  readonly #deadline: number
  readonly #unreleased = new Set<string>()
  #ownClaim: bigint | undefined
  #ownClaimRead = false

  /** `startedAt + waitMs`: when a previous owner that never released is taken to be gone. */
  constructor (owner: string, startedAt: number, waitMs: number) {
    this.owner = owner
    this.#deadline = startedAt + waitMs
  }

  /** The own claim is durable at `offset`. */
  claimWritten (offset: bigint): void {
    this.#ownClaim = offset
  }

  get ownClaimOffset (): bigint | undefined {
    return this.#ownClaim
  }

  /** An earlier owner named by the committed retry offset's metadata: its release is awaited too. */
  expect (owner: string): void {
    if (owner !== this.owner) this.#unreleased.add(owner)
  }

  /** A marker read from the retry partition at `offset`. */
  read (offset: bigint, m: HandoverMarker): void {
    if (m.owner === this.owner) {
      if (m.kind === 'claim') this.#ownClaimRead = true
      return
    }
    if (m.kind === 'release') {
      this.#unreleased.delete(m.owner)
      return
    }
    // Claims after our own are by owners that came later (we are losing the
    // pair); only those before it can still be writing parks we must read.
    if (this.#ownClaimRead || (this.#ownClaim !== undefined && offset > this.#ownClaim)) return
    this.#unreleased.add(m.owner)
  }

  /** Previous owners whose release has not been read. */
  get waitingFor (): readonly string[] {
    return [...this.#unreleased]
  }

  /** Whether the new owner may attempt deliveries: own claim read and every earlier owner released (or waited out). */
  isOpen (now: number): boolean {
    if (!this.#ownClaimRead) return false
    return this.#unreleased.size === 0 || now >= this.#deadline
  }

  /** Opened by the deadline with an earlier owner unreleased. */
  timedOut (now: number): boolean {
    return this.#ownClaimRead && this.#unreleased.size > 0 && now >= this.#deadline
  }
}
