// The dispatcher's live heap, read through the V8 inspector (started with
// --inspect=127.0.0.1:0): a full garbage collection first, so the figure is
// what the process retains, not garbage a sample happened to catch.
// Loopback only; the bench's own dispatcher process only.

/** The inspector's WebSocket URL, once the process has printed it. */
export function inspectorUrlOf (output: string): string | undefined {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1]
}

/** What process.memoryUsage() says right after a full garbage collection (bytes). */
export interface LiveMemory {
  heapUsed: number
  /** Memory of C++ objects bound to JavaScript objects, ArrayBuffers included. */
  external: number
  arrayBuffers: number
}

/** Collects garbage in the inspected process, then answers its heapUsed (bytes). */
export async function liveHeapUsed (url: string, timeoutMs = 120_000): Promise<number> {
  return (await liveMemory(url, timeoutMs)).heapUsed
}

/** Collects garbage in the inspected process (its main thread), then answers its memory use. */
export async function liveMemory (url: string, timeoutMs = 120_000, collect = true): Promise<LiveMemory & { heapTotal: number, rss: number }> {
  const ws = new WebSocket(url)
  const pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>()
  let nextId = 1
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number, result?: unknown, error?: { message: string } }
    const waiter = message.id === undefined ? undefined : pending.get(message.id)
    if (waiter === undefined) return
    pending.delete(message.id as number)
    if (message.error !== undefined) waiter.reject(new Error(message.error.message))
    else waiter.resolve(message.result)
  })
  const call = async (method: string, params: Record<string, unknown> = {}): Promise<unknown> => await new Promise((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    ws.send(JSON.stringify({ id, method, params }))
  })
  const timer = setTimeout(() => { ws.close() }, timeoutMs)
  try {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => { resolve() }, { once: true })
      ws.addEventListener('error', () => { reject(new Error(`inspector ${url}: connection failed`)) }, { once: true })
    })
    const closed = new Promise<never>((_resolve, reject) => ws.addEventListener('close', () => { reject(new Error(`inspector ${url}: closed`)) }, { once: true }))
    closed.catch(() => undefined)
    if (collect) await Promise.race([call('HeapProfiler.collectGarbage'), closed])
    const expression = '(({ heapUsed, heapTotal, external, arrayBuffers, rss }) => ({ heapUsed, heapTotal, external, arrayBuffers, rss }))(process.memoryUsage())'
    const answer = await Promise.race([call('Runtime.evaluate', { expression, returnByValue: true }), closed]) as { result: { value: LiveMemory & { heapTotal: number, rss: number } } }
    return answer.result.value
  } finally {
    clearTimeout(timer)
    ws.close()
  }
}
