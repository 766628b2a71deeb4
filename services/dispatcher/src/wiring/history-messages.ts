// What the main thread and the history threads say to each other.

/** The writer writes the attempts topic; the indexer fills the store. */
export type HistoryThreadRole = 'writer' | 'indexer'
import type { PackedAttempt } from './attempt-pack.js'

export type ToHistoryThread =
  /** Recorded attempts, in order (attempt-pack.ts). */
  | { type: 'entries', entries: PackedAttempt[] }
  /** Write what is left (until `deadline`, epoch ms), close, answer `closed`. */
  | { type: 'close', deadline: number }
  /** Run a memory-reducing garbage collection (memory/reducer.ts), answer `collected`. */
  | { type: 'collect-garbage' }

/** Counter increases and gauge values since the last report. */
export interface HistoryMetricsReport {
  records: Record<string, number>
  writeFailures: number
  indexed: number
  pruned: number
  lag?: number
  rows?: number
}

export type FromHistoryThread =
  | { type: 'ready' }
  /** This many more recorded entries are on the attempts topic. */
  | { type: 'acked', count: number }
  | { type: 'metrics', report: HistoryMetricsReport }
  | { type: 'failed', message: string }
  | { type: 'closed' }
  /** The memory-reducing collection asked for ran. */
  | { type: 'collected' }
