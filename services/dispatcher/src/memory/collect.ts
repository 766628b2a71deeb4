import { Session } from 'node:inspector/promises'

/**
 * A full, memory-reducing garbage collection of the calling thread's heap
 * (the one V8 runs on a low-memory notification: it compacts and gives
 * unused pages back), through an in-process inspector session — a public
 * API that needs no `--expose-gc`. Freed buffers go back to malloc, which
 * may then trim. Works in the main thread and in worker threads alike.
 */
export async function collectGarbage (): Promise<void> {
  const session = new Session()
  session.connect()
  try {
    await session.post('HeapProfiler.collectGarbage')
  } finally {
    session.disconnect()
  }
}
