import { describe, expect, it } from 'vitest'
import { SUMMARY_HEADING, targetRows, withSummary } from './targets-report.js'

const results = `# Benchmark results

- **Date:** 2026-12-05T09:08:51.953Z
- **Load average** (1 / 5 / 15 min): start 0.7 / 1.3 / 1.9

## Targets

| Figure | Target | Measured | Met |
|---|---|--:|---|
| W1: CPU per delivery | ≤ 100 µs | 98 µs | yes |

## Latency at 1,000 events/s

text
`
const backlog = `# Backlog bench

- **Date:** 2026-12-05T10:22:21.678Z
- **Load average (1, 5, 15 min):** 1.42 / 3.00 / 3.20 at the start

## Targets

| Target | Measured | Met |
|---|---|---|
| RSS ≤ 512 MiB with 1,000,000 deliveries parked | 391 MiB | yes |

## Isolation
`

describe('targets summary', () => {
  it('reads the rows of a report\'s Targets table', () => {
    expect(targetRows(results)).toEqual(['| W1: CPU per delivery | ≤ 100 µs | 98 µs | yes |'])
    expect(targetRows('# nothing')).toEqual([])
  })

  it('puts every report\'s targets into results.md after its own Targets table, naming the report, its date and load', () => {
    const merged = withSummary(results, [{ file: 'bench/backlog.md', markdown: backlog }])
    expect(merged).toContain(`${SUMMARY_HEADING}\n`)
    expect(merged).toContain('| W1: CPU per delivery (target ≤ 100 µs) | 98 µs | yes | `bench/results.md` |')
    expect(merged).toContain('| RSS ≤ 512 MiB with 1,000,000 deliveries parked | 391 MiB | yes | `bench/backlog.md` |')
    expect(merged).toContain('- `bench/backlog.md`: run 2026-12-05T10:22:21.678Z; load 1.42 / 3.00 / 3.20 at the start')
    expect(merged).toContain('- `bench/results.md`: run 2026-12-05T09:08:51.953Z; load start 0.7 / 1.3 / 1.9')
    expect(merged.indexOf(SUMMARY_HEADING)).toBeGreaterThan(merged.indexOf('## Targets'))
    expect(merged.indexOf(SUMMARY_HEADING)).toBeLessThan(merged.indexOf('## Latency'))
  })

  it('replaces the summary of an earlier run rather than adding a second', () => {
    const once = withSummary(results, [{ file: 'bench/backlog.md', markdown: backlog }])
    const twice = withSummary(once, [{ file: 'bench/backlog.md', markdown: backlog.replace('391 MiB', '400 MiB') }])
    expect(twice.split(SUMMARY_HEADING).length).toBe(2)
    expect(twice).toContain('400 MiB')
    expect(twice).not.toContain('391 MiB')
  })
})
