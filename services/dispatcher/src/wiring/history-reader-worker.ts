// The reader thread: answers the admin API's reads of the SQLite history
// index (history-reader.ts starts it). It loads the store and nothing else
// (no Kafka client, no configuration), so the thread costs little memory
// while it waits.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { openSqlHistoryStore } from '../history/sql-store.js'
import { openSqliteDriver } from '../history/sqlite-driver.js'
import { packIds } from '../history/sorted-ids.js'
import { isStoreQuery, runStoreQuery } from '../history/store-queries.js'
import { niceThisThread } from './thread-priority.js'
import type { FromReaderThread, ToReaderThread } from './history-messages.js'

/**
 * The reader's nice value (Linux), the indexer's: an admin query yields to
 * deliveries, and still runs whenever a core is idle.
 */
const READER_NICE = 10

if (parentPort === null) throw new Error('history-reader-worker.js runs as a worker thread of the dispatcher')
const port: MessagePort = parentPort
const post = (message: FromReaderThread): void => { port.postMessage(message) }

async function run (): Promise<void> {
  niceThisThread(READER_NICE)
  const store = await openSqlHistoryStore(openSqliteDriver((workerData as { path: string }).path))
  port.on('message', (message: ToReaderThread) => {
    if (message.type === 'close') {
      void store.close().catch(() => undefined).finally(() => {
        post({ type: 'closed' })
        port.close()
      })
      return
    }
    const { id, method, args } = message
    if (!isStoreQuery(method)) {
      post({ type: 'answer', id, error: `no such history query: ${String(method)}` })
      return
    }
    runStoreQuery(store, method, args).then((value) => {
      if (!(value instanceof Set)) {
        post({ type: 'answer', id, value })
        return
      }
      // A set goes over packed, its offsets handed over rather than copied.
      const packed = packIds(value as Set<string>)
      port.postMessage({ type: 'answer', id, value: packed } satisfies FromReaderThread, [packed.ends.buffer as ArrayBuffer])
    }, (err: unknown) => {
      post({ type: 'answer', id, error: err instanceof Error ? err.message : String(err) })
    })
  })
  post({ type: 'ready' })
}

run().catch((err: unknown) => {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
})
