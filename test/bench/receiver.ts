import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** What the sink saw since its last reset. Times are epoch ms. */
export interface ReceiverStats {
  requests: number
  received: number
  distinct: number
  firstAt: number | undefined
  lastAt: number | undefined
  /** Most requests open at the sink at once. */
  maxInFlight: number
  /** TCP connections accepted. */
  connections: number
  openConnections: number
  verified: number
  badSignatures: number
  withoutId: number
  cpuSeconds: number
}

/** Every receipt in arrival order: webhook-id and epoch ms. */
export interface Receipts {
  ids: string[]
  at: number[]
}

export interface BenchReceiver {
  /** The webhook URL. */
  url: string
  pid: number
  /** Forgets everything received and answers after `delayMs` from now on. */
  reset: (delayMs: number) => Promise<void>
  stats: () => Promise<ReceiverStats>
  receipts: () => Promise<Receipts>
  close: () => Promise<void>
}

/** Starts the sink process (receiver-main.js next to this file) on 127.0.0.1. */
export async function startBenchReceiver (secret: string): Promise<BenchReceiver> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'receiver-main.js')], {
    env: { ...process.env, BENCH_RECEIVER_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines = createInterface({ input: child.stdout })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`bench receiver exited with ${String(code)} before listening`)))
  })
  const { port } = JSON.parse(first) as { port: number }
  const base = `http://127.0.0.1:${port}`
  const control = async <T>(path: string, method = 'GET'): Promise<T> => {
    const res = await fetch(`${base}/_control/${path}`, { method })
    if (!res.ok) throw new Error(`bench receiver ${path}: HTTP ${res.status}`)
    return await res.json() as T
  }
  let closing: Promise<void> | undefined
  return {
    url: `${base}/hook`,
    pid: child.pid as number,
    reset: async (delayMs) => { await control(`reset?delayMs=${delayMs}`, 'POST') },
    stats: () => control<ReceiverStats>('stats'),
    receipts: () => control<Receipts>('receipts'),
    close: () => {
      closing ??= (async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM')
          await exited
        }
      })()
      return closing
    }
  }
}
