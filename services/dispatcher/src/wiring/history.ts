// Wires the delivery history (DESIGN §10): the attempts topic and its
// schema, the history thread (writer and indexer, history-worker.ts), the
// recorder the engine writes into, the admin API's store and payload reader.
import { Worker } from 'node:worker_threads'
import type { Admin, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { DispatcherConfig } from '../config.js'
import { toWebhookBody } from '../delivery/payload.js'
import type { AttemptEntry, AttemptRecorder } from '../engine/attempt-log.js'
import { Acknowledgements } from '../history/acknowledgements.js'
import type { RecordDecoder } from '../engine/record-plan.js'
import type { DecodedEvent } from '../engine/delivery-task.js'
import type { HistoryStore } from '../history/store.js'
import type { ReadEventPayload } from '../http/admin/types.js'
import { ensureAttemptsTopic } from '../kafka/history-topic.js'
import { readRecordAt } from '../kafka/record-reader.js'
import { historyThreadLimits, memoryLimitOfThisProcess } from '../memory/heap-limits.js'
import type { Metrics } from '../metrics.js'
import { packAttempt, type PackedAttempt } from './attempt-pack.js'
import type { FromHistoryThread, HistoryMetricsReport, HistoryThreadRole, ToHistoryThread } from './history-messages.js'
import { ThreadHistoryStore } from './history-reader.js'
import { openHistoryStore } from './history-store.js'

export interface History {
  /** The engine's recorder, whose flush the commits wait for; undefined with HISTORY_ENABLED=false. */
  log: (AttemptRecorder & { flush: () => Promise<void> }) | undefined
  /** The admin API's view; undefined with HISTORY_STORE=none. */
  api: { store: HistoryStore, readPayload: ReadEventPayload } | undefined
  /** Reads an event back from its source coordinates (resend, payloads). */
  readEvent: ReadEvent
  /** Writes what is left, stops the history thread, closes the store (after the dispatcher closed). */
  close: () => Promise<void>
  /** Each history thread runs a memory-reducing garbage collection (memory/reducer.ts). */
  collectGarbage: () => Promise<void>
}

const CLOSE_MS = 5_000

/**
 * V8 heap limits of each history thread, from the process's memory limit
 * (memory/heap-limits.ts). Without limits a thread's heap is sized like
 * the main thread's, and the garbage of a burst — a backlog of parked
 * outcomes written at once — stayed resident: 370 MB of RSS over the two
 * threads at 300,000 parked (bench/backlog.md).
 */
const HISTORY_THREAD_LIMITS = historyThreadLimits(memoryLimitOfThisProcess())

/** Longest an entry waits in the delivery thread before it is posted; a flush posts at once. */
const HAND_OVER_MS = 2
/** Entries per message at most. */
const HAND_OVER_ENTRIES = 1000

/**
 * The engine's side of the history thread: entries are packed and posted in
 * batches — every few milliseconds, at a size, or when a commit flushes —
 * because each message costs the delivery thread more than its entries do;
 * `flush` waits until the thread says the attempts topic has every entry
 * recorded before the call.
 */
class ThreadRecorder implements AttemptRecorder {
  readonly #post: (message: ToHistoryThread) => void
  #batch: PackedAttempt[] = []
  #timer: NodeJS.Timeout | undefined
  readonly #acks = new Acknowledgements()
  #closed = false

  constructor (post: (message: ToHistoryThread) => void) {
    this.#post = post
  }

  record (entry: AttemptEntry): void {
    if (this.#closed) return
    this.#batch.push(packAttempt(entry))
    this.#acks.recorded()
    if (this.#batch.length >= HAND_OVER_ENTRIES) this.#send()
    else this.#timer ??= setTimeout(() => { this.#send() }, HAND_OVER_MS)
  }

  async flush (): Promise<void> {
    this.#send()
    await this.#acks.flush('history thread')
  }

  acknowledged (count: number): void {
    this.#acks.acknowledged(count)
  }

  close (): void {
    this.#send()
    this.#closed = true
    this.#acks.close('history thread')
  }

  #send (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#batch.length === 0) return
    const entries = this.#batch
    this.#batch = []
    this.#post({ type: 'entries', entries })
  }
}

function applyReport (metrics: Metrics, report: HistoryMetricsReport): void {
  for (const [outcome, n] of Object.entries(report.records)) metrics.historyRecords.inc({ outcome }, n)
  if (report.writeFailures > 0) metrics.historyWriteFailures.inc(report.writeFailures)
  if (report.indexed > 0) metrics.historyIndexed.inc(report.indexed)
  if (report.pruned > 0) metrics.historyPruned.inc(report.pruned)
  if (report.lag !== undefined) metrics.historyIndexerLag.set(report.lag)
  if (report.rows !== undefined) metrics.historyIndexRows.set(report.rows)
}

interface HistoryThread {
  role: HistoryThreadRole
  worker: Worker
  exited: Promise<void>
  collectGarbage: () => Promise<void>
}

/** What is at an event's source coordinates: the event, or nothing any more. */
export type ReadEvent = (eventId: string, source: { topic: string, partition: number, offset: bigint }) => Promise<{ kind: 'found', event: DecodedEvent } | { kind: 'gone' }>

export function eventReader (kafka: Kafka, decode: RecordDecoder): ReadEvent {
  return async (eventId, source) => {
    const read = await readRecordAt(kafka, source.topic, source.partition, source.offset)
    if (read.kind === 'gone') return read
    const event = await decode(read.value).catch(() => undefined)
    // The offset holds another event only if the topic was re-created.
    if (event?.eventId !== eventId) return { kind: 'gone' }
    return { kind: 'found', event }
  }
}

export async function setUpHistory (o: { config: Readonly<DispatcherConfig>, kafka: Kafka, admin: Admin, decode: RecordDecoder, metrics: Metrics, log: Logger, onFatal: (err: Error) => void }): Promise<History> {
  const { config, kafka, metrics, log } = o
  const readEvent = eventReader(kafka, o.decode)
  if (!config.historyEnabled) return { log: undefined, api: undefined, readEvent, close: async () => {}, collectGarbage: async () => {} }
  const created = await ensureAttemptsTopic(o.admin, { topic: config.historyTopic, partitions: config.historyTopicPartitions, retentionHours: config.historyTopicRetentionHours, replicationFactor: config.topicReplicationFactor })
  log.info({ topic: config.historyTopic, created }, 'attempts topic ready')

  let closing = false
  // A history thread that dies after start-up leaves every commit waiting (the
  // writer) or the index behind (the indexer): exit, so the orchestrator restarts us.
  const startThread = async (role: HistoryThreadRole, onMessage: (message: FromHistoryThread) => void): Promise<HistoryThread> => {
    const worker = new Worker(new URL('./history-worker.js', import.meta.url), { workerData: { role }, resourceLimits: HISTORY_THREAD_LIMITS })
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    const collections: Array<() => void> = []
    const collectGarbage = async (): Promise<void> => {
      const done = new Promise<void>((resolve) => { collections.push(resolve) })
      worker.postMessage({ type: 'collect-garbage' } satisfies ToHistoryThread)
      // A thread that exits meanwhile (shutdown) answers no more.
      await Promise.race([done, exited])
    }
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromHistoryThread) => {
        if (message.type === 'metrics') applyReport(metrics, message.report)
        else if (message.type === 'collected') collections.shift()?.()
        else if (message.type === 'ready') resolve()
        else if (message.type === 'failed') reject(new Error(`history ${role} thread failed: ${message.message}`))
        else onMessage(message)
      })
      worker.once('error', reject)
    })
    worker.on('error', (err) => { if (!closing) o.onFatal(err) })
    worker.on('exit', (code) => { if (!closing) o.onFatal(new Error(`history ${role} thread exited with ${code}`)) })
    await ready
    return { role, worker, exited, collectGarbage }
  }
  // Nothing is recorded before the dispatcher starts, after this returns.
  let toWriter: (message: ToHistoryThread) => void = () => {}
  const recorder = new ThreadRecorder((message) => { toWriter(message) })
  const writer = await startThread('writer', (message) => { if (message.type === 'acked') recorder.acknowledged(message.count) })
  toWriter = (message) => { writer.worker.postMessage(message) }
  const indexer = config.historyStore === 'none' ? undefined : await startThread('indexer', () => {})
  const threads = [writer, ...(indexer === undefined ? [] : [indexer])]
  // The admin API reads a SQLite index on a thread of its own, started by
  // its first query (history-reader.ts); the indexer has opened the store.
  const reader = config.historyStore === 'sqlite' ? new ThreadHistoryStore({ path: config.historySqlitePath, resourceLimits: HISTORY_THREAD_LIMITS, log: log.child({ module: 'history', thread: 'reader' }) }) : undefined
  metrics.bind({
    // A thread that has exited (shutdown) has no heap to report.
    historyThreadHeaps: async () => {
      const heaps = await Promise.all(threads.map(async ({ role, worker }) => {
        const heap = await worker.getHeapStatistics().catch(() => undefined)
        return heap === undefined ? [] : [{ role, used: heap.used_heap_size, total: heap.total_heap_size }]
      }))
      const readerHeap = await reader?.heap()
      return [...heaps.flat(), ...(readerHeap === undefined ? [] : [{ role: 'reader' as const, ...readerHeap }])]
    }
  })

  const store = config.historyStore === 'postgres' ? await openHistoryStore(config) : reader
  const readPayload: ReadEventPayload = async (eventId, source) => {
    const read = await readEvent(eventId, source)
    return read.kind === 'gone' ? read : { kind: 'found', body: toWebhookBody(read.event) }
  }
  return {
    log: recorder,
    readEvent,
    api: store === undefined ? undefined : { store, readPayload },
    collectGarbage: async () => { await Promise.all(threads.map(async (thread) => { await thread.collectGarbage() })) },
    close: async () => {
      closing = true
      recorder.close()
      await Promise.all(threads.map(async ({ worker, exited }) => {
        worker.postMessage({ type: 'close', deadline: Date.now() + CLOSE_MS } satisfies ToHistoryThread)
        const timer = setTimeout(() => { void worker.terminate() }, CLOSE_MS * 2)
        await exited
        clearTimeout(timer)
      }))
      await store?.close()
    }
  }
}
