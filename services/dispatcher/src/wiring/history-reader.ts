// The admin API's view of a SQLite history index, answered on a thread of
// its own. node:sqlite runs a query to its end on the thread that asks: on
// the delivery thread, an endpoint's 24-hour totals over a million rows held
// every delivery for 0.4-0.5 s, and the delivered-events list of a replay
// for 4-6 s (bench/history-index.md). PostgreSQL needs no such thread: its
// queries wait on a socket.
import { Worker, type ResourceLimits } from 'node:worker_threads'
import type { Logger } from 'pino'
import { HistoryQueryUnavailableError } from '../errors.js'
import type { StoreQuery } from '../history/store-queries.js'
import { SortedIds, type PackedIds } from '../history/sorted-ids.js'
import type { AttemptPage, AttemptTotals, EventIdSet, HistoryStore, IndexedAttempt } from '../history/store.js'
import type { FromReaderThread, ToReaderThread } from './history-messages.js'

export interface HistoryReaderOptions {
  /** HISTORY_SQLITE_PATH. */
  path: string
  resourceLimits: ResourceLimits
  log: Logger
  /** The reader thread's script. @defaultValue history-reader-worker.js beside this file */
  workerUrl?: URL
  /** How long a thread without queries runs before it is closed. @defaultValue 60000 */
  idleMs?: number
}

/** Longest the reader thread may take to close before it is terminated. */
const CLOSE_MS = 5_000
/** A reader thread with no query for this long is closed: it holds about 24 MiB of memory while it runs. */
const IDLE_MS = 60_000

interface Asked { resolve: (value: unknown) => void, reject: (err: Error) => void }

interface ReaderThread {
  worker: Worker
  /** Queries sent to this thread and not answered yet, by id. */
  asked: Map<number, Asked>
  idle: NodeJS.Timeout | undefined
  /** Closed on purpose (idle, or the store's close): its exit is no failure, and no query goes to it. */
  retired: boolean
  /** What `#current` holds while this is the thread queries go to. */
  started?: Promise<ReaderThread>
}

/**
 * A HistoryStore whose reads run on a reader thread, started by the first
 * query and closed once idle. A thread that exits — a query past the
 * thread's heap limit — fails the queries it held with
 * WHD_ERR_HISTORY_UNAVAILABLE (the admin API's 503) and the next query
 * starts another; the process goes on delivering.
 */
export class ThreadHistoryStore implements HistoryStore {
  readonly kind = 'sqlite'
  readonly #o: HistoryReaderOptions
  #current: Promise<ReaderThread> | undefined
  #lastId = 0
  #closed = false

  constructor (o: HistoryReaderOptions) {
    this.#o = o
  }

  async storeId (): Promise<string> { return await this.#ask('storeId', []) as string }
  async eventRecords (tenantId: string | undefined, eventId: string): Promise<IndexedAttempt[]> { return await this.#ask('eventRecords', [tenantId, eventId]) as IndexedAttempt[] }
  async attempts (...args: Parameters<HistoryStore['attempts']>): Promise<AttemptPage> { return await this.#ask('attempts', args) as AttemptPage }
  async totals (tenantId: string, subscriptionId: string, since: number): Promise<AttemptTotals> { return await this.#ask('totals', [tenantId, subscriptionId, since]) as AttemptTotals }
  // Packed by the reader (history-reader-worker.ts): a Set of a million ids is slow to read here.
  async deliveredEventIds (tenantId: string, subscriptionId: string, since: number): Promise<EventIdSet> { return new SortedIds(await this.#ask('deliveredEventIds', [tenantId, subscriptionId, since]) as PackedIds) }
  async count (): Promise<number> { return await this.#ask('count', []) as number }

  // The indexer thread writes the store; this view only reads it.
  async insert (): Promise<number> { throw new Error('the history reader does not write') }
  async prune (): Promise<number> { throw new Error('the history reader does not write') }

  /** V8 heap of the reader thread, for webhooks_history_thread_heap_bytes; undefined while none runs. */
  async heap (): Promise<{ used: number, total: number } | undefined> {
    const thread = await this.#current?.catch(() => undefined)
    const heap = await thread?.worker.getHeapStatistics().catch(() => undefined)
    return heap === undefined ? undefined : { used: heap.used_heap_size, total: heap.total_heap_size }
  }

  async close (): Promise<void> {
    this.#closed = true
    const thread = await this.#current?.catch(() => undefined)
    if (thread === undefined) return
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()))
    this.#retire(thread)
    await exited
  }

  async #ask (method: StoreQuery, args: unknown[]): Promise<unknown> {
    if (this.#closed) throw new HistoryQueryUnavailableError('the history index is closing')
    // A thread retires only once it has answered every query, and forgets
    // itself as `#current` at once: a query never reaches a retired thread.
    const thread = await (this.#current ??= this.#startThread())
    clearTimeout(thread.idle)
    const id = ++this.#lastId
    return await new Promise((resolve, reject) => {
      thread.asked.set(id, { resolve, reject })
      thread.worker.postMessage({ type: 'query', id, method, args } satisfies ToReaderThread)
    })
  }

  #startThread (): Promise<ReaderThread> {
    const { log } = this.#o
    const worker = new Worker(this.#o.workerUrl ?? new URL('./history-reader-worker.js', import.meta.url), {
      workerData: { path: this.#o.path },
      resourceLimits: this.#o.resourceLimits
    })
    const thread: ReaderThread = { worker, asked: new Map(), idle: undefined, retired: false }
    const started = new Promise<ReaderThread>((resolve, reject) => {
      worker.on('message', (message: FromReaderThread) => {
        if (message.type === 'answer') this.#settle(thread, message)
        else if (message.type === 'ready') resolve(thread)
        else if (message.type === 'failed') {
          reject(new HistoryQueryUnavailableError(`the history reader thread could not open the store: ${message.message}`))
          void worker.terminate()
        }
      })
      worker.on('error', (err) => { log.warn({ err }, 'history reader thread failed') })
      worker.once('exit', (code) => {
        if (this.#current === started) this.#current = undefined
        clearTimeout(thread.idle)
        const err = new HistoryQueryUnavailableError(`the history reader thread exited (code ${code}); retry later`)
        reject(err)
        for (const asked of thread.asked.values()) asked.reject(err)
        thread.asked.clear()
        if (!thread.retired) log.warn({ code }, 'history reader thread exited; the next query starts another')
      })
    })
    thread.started = started
    this.#current = started
    return started
  }

  #settle (thread: ReaderThread, message: Extract<FromReaderThread, { type: 'answer' }>): void {
    const asked = thread.asked.get(message.id)
    if (asked === undefined) return
    thread.asked.delete(message.id)
    if ('error' in message) asked.reject(new Error(`history query failed: ${message.error}`))
    else asked.resolve(message.value)
    if (thread.asked.size === 0) {
      thread.idle = setTimeout(() => { this.#retire(thread) }, this.#o.idleMs ?? IDLE_MS)
      thread.idle.unref()
    }
  }

  /** Closes an idle thread (or every thread, at close); a query after it starts another. */
  #retire (thread: ReaderThread): void {
    if (thread.retired || (thread.asked.size > 0 && !this.#closed)) return
    thread.retired = true
    clearTimeout(thread.idle)
    if (this.#current === thread.started) this.#current = undefined
    thread.worker.postMessage({ type: 'close' } satisfies ToReaderThread)
    setTimeout(() => { void thread.worker.terminate() }, CLOSE_MS).unref()
  }
}
