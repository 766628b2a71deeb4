import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { errorDocs, generatedBlocks, renderErrorTable, withGeneratedBlocks } from '../../../services/dispatcher/src/cli/docs-tables.js'
import { exitCode, exitCodes, exitCodeSummary } from '../../../services/dispatcher/src/errors.js'
import { createMetrics } from '../../../services/dispatcher/src/metrics.js'
import { redriveUsage } from '../../../services/dispatcher/src/redrive/command.js'

const readmePath = join(import.meta.dirname, '../../../README.md')

describe('the README\'s generated tables', () => {
  it('are what `make docs` writes now: error codes, exit codes and metric families cannot drift from the code', async () => {
    const families = (await createMetrics().registry.getMetricsAsJSON()).map((f) => ({ name: f.name, type: String(f.type), help: f.help }))
    const readme = readFileSync(readmePath, 'utf8')
    expect(withGeneratedBlocks(readme, generatedBlocks(families)) === readme, 'README.md is stale: run make docs').toBe(true)
  })

  it('list every code once', () => {
    const codes = errorDocs.flatMap((doc) => doc.codes)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('say the admin API answers WHD_ERR_URL_INVALID (400), not start-up only', () => {
    expect(renderErrorTable()).toMatch(/^\| `WHD_ERR_URL_INVALID` \| admin API \(400/m)
  })

  it('refuse to write into a README without the markers', () => {
    expect(() => withGeneratedBlocks('# no markers', { metrics: 'x' })).toThrow(/metrics:start/)
  })
})

describe('exit codes', () => {
  it('are one table, which the usage text and the CLIs read', () => {
    expect(redriveUsage).toContain(`Exit codes: ${exitCodeSummary('redrive')}.`)
    expect(exitCode('redrive', 'bad flags')).toBe(2)
    expect(exitCode('dispatcher', 'invalid configuration')).toBe(78)
    expect(() => exitCode('redrive', 'no such meaning')).toThrow(/no exit code of redrive/)
    for (const codes of Object.values(exitCodes)) expect(new Set(codes.map((c) => c.code)).size).toBe(codes.length)
  })
})
