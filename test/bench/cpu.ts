// CPU accounting from /proc (Linux), to tell a CPU-bound run from one that
// waits: a process's CPU seconds, and how busy the whole machine was.
import { readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'

// USER_HZ, the unit of /proc times; 100 on every mainstream Linux ABI.
const TICKS_PER_SECOND = 100

interface Stat {
  /** The command (thread) name. */
  name: string
  /** User + system CPU seconds. */
  cpuSeconds: number
  nice: number
}

/** A /proc stat file (a process's or a thread's); undefined when it is gone or not on Linux. */
function readStat (path: string): Stat | undefined {
  try {
    const stat = readFileSync(path, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return {
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      nice: Number(fields[16])
    }
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) a process has used; undefined when it is gone or not on Linux. */
export function processCpuSeconds (pid: number): number | undefined {
  return readStat(`/proc/${pid}/stat`)?.cpuSeconds
}

/** CPU seconds of the process's main thread (its task id is the pid); undefined when it is gone or not on Linux. */
export function mainThreadCpuSeconds (pid: number): number | undefined {
  return readStat(`/proc/${pid}/task/${pid}/stat`)?.cpuSeconds
}

/** The dispatcher's threads, told apart by what /proc says of them. */
export type ThreadRole = 'delivery' | 'historyWriter' | 'historyIndexer' | 'v8Helpers' | 'other'

/**
 * CPU seconds of a process's threads by role (Linux): the main thread is
 * the delivery thread; worker threads are the history writer, or the
 * indexer, which alone runs niced (wiring/history-worker.ts); V8's
 * platform threads do garbage collection and background compiling.
 */
export function threadCpuSeconds (pid: number): Record<ThreadRole, number> | undefined {
  const roles: Record<ThreadRole, number> = { delivery: 0, historyWriter: 0, historyIndexer: 0, v8Helpers: 0, other: 0 }
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return undefined
  }
  for (const tid of tids) {
    // Undefined: the thread ended between the listing and the read.
    const stat = readStat(`/proc/${pid}/task/${tid}/stat`)
    if (stat === undefined) continue
    const role: ThreadRole = tid === String(pid)
      ? 'delivery'
      : stat.name === 'WorkerThread' ? (stat.nice > 0 ? 'historyIndexer' : 'historyWriter') : stat.name.startsWith('V8') ? 'v8Helpers' : 'other'
    roles[role] += stat.cpuSeconds
  }
  return roles
}

export interface MachineCpu {
  busy: number
  total: number
}

/** Aggregate CPU time counters of the machine (all cores). */
export function machineCpu (): MachineCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string
    const values = line.trim().split(/\s+/).slice(1).map(Number)
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0)
    const idle = (values[3] ?? 0) + (values[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

/** CPU used over a measuring window (cores = average number of cores busy). */
export interface CpuUse {
  /** The process doing the work: the bench process, or the dispatcher. */
  senderCores: number
  receiverCores: number
  /** The whole machine, out of its core count (Kafka and anything else included). */
  machineCores: number
  /** Sender CPU time per item delivered, microseconds. */
  senderUsPerItem: number
  /** Of that, the sender's main thread (for the dispatcher: its delivery thread); the rest is its other threads (history, GC, libuv). */
  senderMainThreadUsPerItem?: number
  /** The sender's CPU per item by thread role (Linux), µs. */
  senderThreadsUsPerItem?: Record<ThreadRole, number>
}

/** A span of wall time, with the CPU the sender, the receiver and the machine used in it. */
export class CpuWindow {
  readonly #senderPid: number
  readonly #receiverPid: number
  readonly #startWall = Date.now()
  readonly #startSender: number | undefined
  readonly #startSenderMain: number | undefined
  readonly #startReceiver: number | undefined
  readonly #startMachine = machineCpu()
  readonly #startThreads: Record<ThreadRole, number> | undefined

  constructor ({ sender, receiver }: { sender: number, receiver: number }) {
    this.#senderPid = sender
    this.#receiverPid = receiver
    this.#startSender = processCpuSeconds(sender)
    this.#startSenderMain = mainThreadCpuSeconds(sender)
    this.#startReceiver = processCpuSeconds(receiver)
    this.#startThreads = threadCpuSeconds(sender)
  }

  end (items: number): CpuUse {
    const wallSeconds = (Date.now() - this.#startWall) / 1000
    const used = (start: number | undefined, pid: number): number => {
      const end = processCpuSeconds(pid)
      return start === undefined || end === undefined ? Number.NaN : end - start
    }
    const sender = used(this.#startSender, this.#senderPid)
    const senderMain = (mainThreadCpuSeconds(this.#senderPid) ?? Number.NaN) - (this.#startSenderMain ?? Number.NaN)
    const receiver = used(this.#startReceiver, this.#receiverPid)
    const machine = machineCpu()
    const threadsEnd = threadCpuSeconds(this.#senderPid)
    const threadsStart = this.#startThreads
    const threads = threadsEnd === undefined || threadsStart === undefined || items <= 0
      ? undefined
      : Object.fromEntries(Object.entries(threadsEnd).map(([role, seconds]) => [role, ((seconds - threadsStart[role as ThreadRole]) / items) * 1e6])) as Record<ThreadRole, number>
    const start = this.#startMachine
    const machineCores = machine !== undefined && start !== undefined && machine.total > start.total
      ? ((machine.busy - start.busy) / (machine.total - start.total)) * cpus().length
      : Number.NaN
    return {
      senderCores: wallSeconds > 0 ? sender / wallSeconds : Number.NaN,
      receiverCores: wallSeconds > 0 ? receiver / wallSeconds : Number.NaN,
      machineCores,
      senderUsPerItem: items > 0 ? (sender / items) * 1e6 : Number.NaN,
      senderMainThreadUsPerItem: items > 0 ? (senderMain / items) * 1e6 : Number.NaN,
      ...(threads === undefined ? {} : { senderThreadsUsPerItem: threads })
    }
  }
}
