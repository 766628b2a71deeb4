/**
 * What a commit's metadata remembers about offsets settled above the commit
 * position (the refinement Confluent's Parallel Consumer uses). Key-level
 * concurrency settles records out of order, so the watermark can sit below
 * records that were already delivered; without this, a restart would deliver
 * all of those again. With it, only deliveries in flight (or settled after
 * the last commit) are redelivered (C4).
 *
 * Two kinds of memory:
 * - records whose every delivery settled (one bitset);
 * - for records fanned out to several subscriptions and only partly settled,
 *   which subscriptions' deliveries settled (a bitset per subscription), so
 *   a fast endpoint is not sent again what it already got.
 *
 * Format: `whd1:<records>`, then `;@owner=<uri-encoded token>` on a retry
 * partition (its owner, whose release a next owner waits for: DESIGN §4a;
 * `@` is never the first character of an encoded subscription id), then
 * `;<uri-encoded subscription id>=<bits>` per subscription; each bitset is base64, bit i (LSB first) = offset base+1+i.
 * Kafka caps metadata (offset.metadata.max.bytes, 4096 by default): the
 * encoding stays under {@link MAX_METADATA_CHARS} by leaving out what does
 * not fit. Offsets left out are simply redelivered, never wrongly skipped.
 */
const PREFIX = 'whd1:'

/** Kept well under Kafka's default 4096-byte metadata limit. */
export const MAX_METADATA_CHARS = 3900
/** Records tracked by the record bitset (2,000 bytes, 2,668 base64 chars). */
export const MAX_TRACKED_OFFSETS = 16_000

export interface SettledAbove {
  /** Records whose every delivery settled. */
  records: Set<bigint>
  /** Per record, the subscriptions whose delivery of it settled. */
  deliveries: Map<bigint, Set<string>>
  /** The handover token of the owner that committed (retry partitions). */
  owner?: string
}

const OWNER_SECTION = '@owner='

function bitset (base: bigint, offsets: Iterable<bigint>, maxTracked: number): string | undefined {
  const indexes: number[] = []
  let highest = -1
  for (const offset of offsets) {
    const index = Number(offset - base - 1n)
    if (index < 0 || index >= maxTracked) continue
    indexes.push(index)
    if (index > highest) highest = index
  }
  if (highest < 0) return undefined
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1)
  for (const index of indexes) bytes[index >> 3] = (bytes[index >> 3] as number) | (1 << (index & 7))
  return bytes.toString('base64')
}

function readBitset (base: bigint, encoded: string, into: (offset: bigint) => void): void {
  const bytes = Buffer.from(encoded, 'base64')
  for (let byte = 0; byte < bytes.length; byte++) {
    const value = bytes[byte] as number
    if (value === 0) continue
    for (let bit = 0; bit < 8; bit++) {
      if ((value & (1 << bit)) !== 0) into(base + 1n + BigInt(byte * 8 + bit))
    }
  }
}

/**
 * Encodes what is settled above `base` (the commit offset); undefined when
 * nothing is. `deliveries` maps a subscription id to the partly settled
 * records it has settled.
 */
export function encodeSettledOffsets (
  base: bigint,
  records: Iterable<bigint>,
  deliveries: ReadonlyMap<string, Iterable<bigint>> = new Map(),
  { maxChars = MAX_METADATA_CHARS, maxTracked = MAX_TRACKED_OFFSETS, owner }: { maxChars?: number, maxTracked?: number, owner?: string } = {}
): string | undefined {
  let text = PREFIX + (bitset(base, records, maxTracked) ?? '')
  let any = text.length > PREFIX.length
  if (owner !== undefined) {
    text += `;${OWNER_SECTION}${encodeURIComponent(owner)}`
    any = true
  }
  for (const [subscriptionId, offsets] of deliveries) {
    const bits = bitset(base, offsets, maxTracked)
    if (bits === undefined) continue
    const section = `;${encodeURIComponent(subscriptionId)}=${bits}`
    if (text.length + section.length > maxChars) continue
    text += section
    any = true
  }
  return any ? text : undefined
}

/** Decodes metadata written by {@link encodeSettledOffsets}; anything else means "nothing settled". */
export function decodeSettledOffsets (base: bigint, metadata: string | null | undefined): SettledAbove {
  const result: SettledAbove = { records: new Set(), deliveries: new Map() }
  if (metadata === null || metadata === undefined || !metadata.startsWith(PREFIX)) return result
  const [recordBits = '', ...sections] = metadata.slice(PREFIX.length).split(';')
  readBitset(base, recordBits, (offset) => result.records.add(offset))
  for (const section of sections) {
    if (section.startsWith(OWNER_SECTION)) {
      try {
        result.owner = decodeURIComponent(section.slice(OWNER_SECTION.length))
      } catch {
        // Not ours: no owner known.
      }
      continue
    }
    const eq = section.indexOf('=')
    if (eq <= 0) continue
    let subscriptionId: string
    try {
      subscriptionId = decodeURIComponent(section.slice(0, eq))
    } catch {
      continue
    }
    readBitset(base, section.slice(eq + 1), (offset) => {
      const subs = result.deliveries.get(offset) ?? new Set<string>()
      subs.add(subscriptionId)
      result.deliveries.set(offset, subs)
    })
  }
  return result
}
