// Every target the benchmarks judge, gathered
// into bench/results.md from the reports of the run (results.md's own
// Targets table and backlog.md's), each row with the report it comes from
// and that report's date and load, so one file shows every figure of issue
// 14 with its target and whether it is met.

export const SUMMARY_HEADING = '## Every target of `make bench`'

/** The rows of the table under `## Targets` (header and separator left out). */
export function targetRows (markdown: string): string[] {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => line.trim() === '## Targets')
  if (start === -1) return []
  const rows: string[] = []
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break
    if (line.startsWith('|')) rows.push(line)
  }
  return rows.slice(2)
}

/**
 * A row's cells as figure-and-target, measured, met: results.md's rows have
 * the target in a column of its own (four cells), backlog.md's name it in
 * the figure (three).
 */
function summaryCells (row: string): string[] {
  const cells = row.split('|').slice(1, -1).map((cell) => cell.trim())
  if (cells.length === 4) return [`${cells[0] ?? ''} (target ${cells[1] ?? ''})`, cells[2] ?? '', cells[3] ?? '']
  return cells
}

/** The value of a `- **Name…:** value` line. */
function field (markdown: string, name: string): string {
  const match = new RegExp(`^- \\*\\*${name}[^:]*:(?:\\*\\*)?\\s*(.*)$`, 'm').exec(markdown)
  return match?.[1]?.trim() ?? 'unknown'
}

/** results.md with the summary section put in (replacing one from an earlier run), before `## Latency`. */
export function withSummary (results: string, others: Array<{ file: string, markdown: string }>): string {
  const reports = [{ file: 'bench/results.md', markdown: results }, ...others]
  const rows = reports.flatMap(({ file, markdown }) => targetRows(markdown).map((row) => `| ${summaryCells(row).join(' | ')} | \`${file}\` |`))
  const sources = reports.map(({ file, markdown }) => `- \`${file}\`: run ${field(markdown, 'Date')}; load ${field(markdown, 'Load average')}`)
  const section = [SUMMARY_HEADING, '', 'Gathered from this run\'s reports by test/bench/targets.ts.', '', ...sources, '', '| Figure and target | Measured | Met | Report |', '|---|--:|---|---|', ...rows, ''].join('\n')
  const cleaned = results.replace(new RegExp(`${SUMMARY_HEADING.replace(/[.*+?^${}()|[\]\\`]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## )\\n`), '')
  const at = cleaned.indexOf('\n## ', cleaned.indexOf('## Targets') + 1)
  return at === -1 ? `${cleaned}\n${section}` : `${cleaned.slice(0, at + 1)}${section}\n${cleaned.slice(at + 1)}`
}
