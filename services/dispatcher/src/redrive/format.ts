// The redrive's human-readable output: one line per selected dead letter
// (stdout), progress lines (stderr) and the final summary (stdout).
import type { DeadLetterSummary } from '../dead-letters/filter.js'
import { redriveSkipReasons, targetLabel } from '../dead-letters/plan.js'
import type { RedriveProgress, RedriveRecordEvent, RedriveResult } from './run.js'

function counts (p: RedriveProgress): string {
  return `scanned ${p.scanned} of ${p.toScan}, matched ${p.matched}, ${p.dryRun ? 'would redrive' : 'redriven'} ${p.redriven}, skipped ${p.skipped}`
}

/** `redrive: scanned 120 of 500, matched 10, redriven 10, skipped 0` */
export function formatProgress (progress: RedriveProgress): string {
  return `redrive${progress.dryRun ? ' (dry run)' : ''}: ${counts(progress)}`
}

function describeLetter (letter: DeadLetterSummary): string {
  const parts: string[] = []
  if (letter.subscriptionId !== undefined) parts.push(`subscription=${letter.subscriptionId}`)
  if (letter.accountId !== undefined) parts.push(`account=${JSON.stringify(letter.accountId)}`)
  parts.push(`reason=${letter.reason ?? '?'}`)
  if (letter.deadLetteredAt !== undefined) parts.push(`dead-lettered-at=${new Date(letter.deadLetteredAt).toISOString()}`)
  if (letter.sourceTopic !== undefined) {
    parts.push(`source=${letter.sourceTopic}:${letter.sourcePartition ?? '?'}@${letter.sourceOffset ?? '?'}`)
  }
  return parts.join(' ')
}

/**
 * One selected dead letter:
 * `redriven webhooks.dead-letter:1@42 subscription=… account="acc-1" reason=retries-exhausted … -> banking.transactions.v1.retry:3`
 */
export function formatRecord ({ deadLetter, decision, dryRun }: RedriveRecordEvent): string {
  const where = `${deadLetter.topic}:${deadLetter.partition}@${deadLetter.offset}`
  if (decision.kind === 'redrive') {
    return `${dryRun ? 'would redrive' : 'redriven'} ${where} ${describeLetter(decision.letter)} -> ${targetLabel(decision.target)}`
  }
  return `${dryRun ? 'would skip' : 'skipped'} ${where} ${describeLetter(decision.letter)} (${decision.reason}: ${decision.detail})`
}

/** The final report: counts, then redrives per target and skips per reason. */
export function formatSummary (result: RedriveResult): string {
  const head = result.dryRun ? 'dry run, nothing written' : result.complete ? 'redrive complete' : 'redrive interrupted'
  const lines = [`${head}: ${counts(result)}`, `  redrive id: ${result.redriveId}`]
  for (const [target, n] of Object.entries(result.redrivenByTarget).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${result.dryRun ? 'would redrive to' : 'redriven to'} ${target}: ${n}`)
  }
  for (const reason of redriveSkipReasons) {
    const n = result.skippedByReason[reason]
    if (n !== undefined) lines.push(`  skipped (${reason}): ${n}`)
  }
  if (result.dryRun && !result.complete) lines.push('  interrupted before the end of the dead-letter topic')
  return lines.join('\n')
}
