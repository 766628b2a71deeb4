/**
 * Offsets settled above a commit position, carried in the commit's metadata
 * (the refinement Confluent's Parallel Consumer uses). Key-level concurrency
 * settles records out of order, so the watermark can sit far below records
 * that were already delivered; without this, a crash would deliver all of
 * those again. With it, only records in flight (or settled after the last
 * commit) are redelivered (C4).
 *
 * Format: `whd1:` + base64 of a bitset whose bit i (LSB first) marks offset
 * base + 1 + i as settled. Kafka caps metadata (offset.metadata.max.bytes,
 * 4096 by default), so the bitset is cut at {@link MAX_TRACKED_OFFSETS}:
 * offsets beyond it are simply not remembered, never wrongly remembered.
 */
const PREFIX = 'whd1:'

/** Bits that fit in the default 4 KiB metadata limit, with room to spare. */
export const MAX_TRACKED_OFFSETS = 3000 * 8

/** Encodes settled offsets above `base` (the commit offset); undefined when there are none. */
export function encodeSettledOffsets (base: bigint, settled: Iterable<bigint>, maxTracked = MAX_TRACKED_OFFSETS): string | undefined {
  const bits: number[] = []
  let highest = -1
  for (const offset of settled) {
    const index = Number(offset - base - 1n)
    if (index < 0 || index >= maxTracked) continue
    bits.push(index)
    if (index > highest) highest = index
  }
  if (highest < 0) return undefined
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1)
  for (const index of bits) bytes[index >> 3] = (bytes[index >> 3] as number) | (1 << (index & 7))
  return PREFIX + bytes.toString('base64')
}

/** Decodes metadata written by {@link encodeSettledOffsets}; anything else means "none". */
export function decodeSettledOffsets (base: bigint, metadata: string | null | undefined): Set<bigint> {
  const settled = new Set<bigint>()
  if (metadata === null || metadata === undefined || !metadata.startsWith(PREFIX)) return settled
  const bytes = Buffer.from(metadata.slice(PREFIX.length), 'base64')
  for (let byte = 0; byte < bytes.length; byte++) {
    const value = bytes[byte] as number
    if (value === 0) continue
    for (let bit = 0; bit < 8; bit++) {
      if ((value & (1 << bit)) !== 0) settled.add(base + 1n + BigInt(byte * 8 + bit))
    }
  }
  return settled
}
