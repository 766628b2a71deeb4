// What the main thread and the history threads say to each other.

/** The writer writes the attempts topic; the indexer fills the store. */
export type HistoryThreadRole = 'writer' | 'indexer'
import type { StoreQuery } from '../history/store-queries.js'
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

/** To the reader thread (history-reader-worker.ts), which answers the admin API's reads of a SQLite index. */
export type ToReaderThread =
  /** A read of the store, answered by an `answer` with the same id. */
  | { type: 'query', id: number, method: StoreQuery, args: unknown[] }
  /** Close the store, answer `closed`, exit. */
  | { type: 'close' }

export type FromReaderThread =
  /** The store is open (its schema migrated). */
  | { type: 'ready' }
  | { type: 'failed', message: string }
  /** What the store answered to the query `id`, or the message of what it threw. */
  | { type: 'answer', id: number, value: unknown }
  | { type: 'answer', id: number, error: string }
  | { type: 'closed' }
