import { describe, expect, it } from 'vitest'
import { decodeSettledOffsets, encodeSettledOffsets, MAX_METADATA_CHARS } from '../../../../services/dispatcher/src/engine/settled-offsets.js'
import { LaneWindow } from '../../../../services/dispatcher/src/engine/lane-window.js'

describe('commit metadata: settled offsets above the watermark', () => {
  it('round-trips settled records', () => {
    const metadata = encodeSettledOffsets(100n, [101n, 103n, 110n, 250n])
    expect(metadata).toMatch(/^whd1:/)
    expect([...decodeSettledOffsets(100n, metadata).records].sort()).toEqual([101n, 103n, 110n, 250n])
  })

  it('encodes nothing when nothing above the base is settled', () => {
    expect(encodeSettledOffsets(100n, [])).toBeUndefined()
    expect(encodeSettledOffsets(100n, [100n, 5n])).toBeUndefined()
  })

  it('round-trips per-subscription deliveries of partly settled records, ids with any characters', () => {
    const metadata = encodeSettledOffsets(0n, [2n], new Map([['sub;a=1', [5n, 7n]], ['sub-b', [7n]]]))
    const decoded = decodeSettledOffsets(0n, metadata)
    expect([...decoded.records]).toEqual([2n])
    expect(decoded.deliveries.get(5n)).toEqual(new Set(['sub;a=1']))
    expect(decoded.deliveries.get(7n)).toEqual(new Set(['sub;a=1', 'sub-b']))
    expect(decoded.deliveries.has(2n)).toBe(false)
  })

  it('stays under the metadata limit by leaving out what does not fit, never inventing offsets', () => {
    const many = Array.from({ length: 15_000 }, (_, i) => BigInt(i + 1))
    const subs = new Map(Array.from({ length: 20 }, (_, i) => [`subscription-${i}`, many] as [string, bigint[]]))
    const metadata = encodeSettledOffsets(0n, many, subs) as string
    expect(metadata.length).toBeLessThanOrEqual(MAX_METADATA_CHARS)
    const decoded = decodeSettledOffsets(0n, metadata)
    expect(decoded.records.size).toBe(15_000)
    for (const subs of decoded.deliveries.values()) for (const sub of subs) expect(sub).toMatch(/^subscription-\d+$/)
  })

  it('treats foreign or missing metadata as nothing settled', () => {
    expect(decodeSettledOffsets(0n, null).records.size).toBe(0)
    expect(decodeSettledOffsets(0n, 'some-other-tool').records.size).toBe(0)
  })
})

describe('LaneWindow', () => {
  it('commits the lowest unsettled offset with the settled ones above it, and a new owner skips those', () => {
    const window = new LaneWindow()
    for (let o = 10n; o < 20n; o++) window.track(o)
    for (const o of [10n, 11n, 13n, 15n]) window.settle(o)
    const commit = window.commit()
    expect(commit?.offset).toBe(12n)

    const next = new LaneWindow()
    next.rememberCommitted(commit!.offset, commit!.metadata)
    const skipped = [12n, 13n, 14n, 15n, 16n].filter((o) => next.skipIfSettledBefore(o))
    expect(skipped).toEqual([13n, 15n])
  })
})

describe('commit metadata: the owner of a retry partition (DESIGN §4a)', () => {
  it('round-trips the owner beside the bitsets, and never takes a subscription section for it', () => {
    const deliveries = new Map([['@owner=evil', [12n]]])
    const metadata = encodeSettledOffsets(10n, [11n], deliveries, { owner: 'dispatcher-1/3f2a' })
    expect(metadata).toContain(';@owner=dispatcher-1%2F3f2a')
    const decoded = decodeSettledOffsets(10n, metadata)
    expect(decoded.owner).toBe('dispatcher-1/3f2a')
    expect([...decoded.records]).toEqual([11n])
    expect(decoded.deliveries.get(12n)).toEqual(new Set(['@owner=evil']))
    expect(decodeSettledOffsets(10n, encodeSettledOffsets(10n, [], new Map(), { owner: 'o' })).owner).toBe('o')
    expect(decodeSettledOffsets(10n, encodeSettledOffsets(10n, [11n])).owner).toBeUndefined()
  })
})
