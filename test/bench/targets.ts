// `make bench`'s last step (see targets-report.ts): every target of the run's
// reports, gathered into bench/results.md.
import { readFile, writeFile } from 'node:fs/promises'
import { withSummary } from './targets-report.js'

const results = await readFile('bench/results.md', 'utf8')
const backlog = await readFile('bench/backlog.md', 'utf8')
await writeFile('bench/results.md', withSummary(results, [{ file: 'bench/backlog.md', markdown: backlog }]))
process.stdout.write('bench/results.md: every target gathered\n')
