/**
 * docs: writes the README's generated tables (error codes, exit codes, metric
 * families) from the code (cli/docs-tables.ts). `--check` writes nothing and
 * exits 1 when the README differs.
 *
 *   node dist/services/dispatcher/src/cli/docs.js [--check] [README.md]
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { quietKafkajsTimerWarning } from '../../../events/src/index.js'
import { createMetrics } from '../metrics.js'
import { generatedBlocks, withGeneratedBlocks } from './docs-tables.js'

quietKafkajsTimerWarning()
const args = process.argv.slice(2)
const check = args.includes('--check')
const path = args.find((arg) => !arg.startsWith('--')) ?? 'README.md'
const families = (await createMetrics().registry.getMetricsAsJSON()).map((f) => ({ name: f.name, type: String(f.type), help: f.help }))
const before = readFileSync(path, 'utf8')
const after = withGeneratedBlocks(before, generatedBlocks(families))
if (check) {
  if (after !== before) process.stderr.write(`${path} is stale: run make docs\n`)
  process.exitCode = after === before ? 0 : 1
} else {
  writeFileSync(path, after)
  process.stdout.write(`wrote ${path}\n`)
}
