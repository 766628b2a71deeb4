// Prints the plain totals line CI reads: "tests: N passed, N failed".
// Reads vitest's JSON report; a missing or unreadable report counts as one
// failure so that a run that never reached the tests cannot look green.
import { readFileSync } from 'node:fs'

const reportPath = process.argv[2] ?? '.run/test-report.json'
let passed = 0
let failed = 1
try {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'))
  passed = report.numPassedTests ?? 0
  // A file that fails to load (syntax error, failing beforeAll) has no
  // failed test of its own; count it as one failure.
  const brokenFiles = (report.testResults ?? []).filter((file) =>
    file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')).length
  failed = (report.numFailedTests ?? 0) + brokenFiles
} catch (err) {
  console.error(`print-summary: no readable test report at ${reportPath} (${err.message})`)
}
console.log(`tests: ${passed} passed, ${failed} failed`)
