// Summarises a V8 CPU profile (node --cpu-prof) by where the time went:
// kafkajs, Avro decoding, HTTP, the engine, and so on. Self time only; idle
// time is left out of the shares.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
}

export interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Busy (non-idle) milliseconds sampled. */
  busyMs: number
  categories: Array<{ name: string, ms: number, share: number }>
  top: Array<{ name: string, where: string, ms: number, share: number }>
}

/** Ordered: the first rule whose test matches a frame names its category. */
const CATEGORIES: Array<[name: string, test: (url: string, fn: string) => boolean]> = [
  ['idle', (url, fn) => url === '' && fn === '(idle)'],
  ['garbage collection', (url, fn) => url === '' && fn === '(garbage collector)'],
  ['kafkajs (fetch, protocol, record batches)', (url) => url.includes('/node_modules/kafkajs/')],
  ['avsc (Avro decode)', (url) => url.includes('/node_modules/avsc/')],
  ['schema registry client', (url) => url.includes('/node_modules/@kafkajs/confluent-schema-registry/') || url.includes('/node_modules/mappersmith/')],
  ['undici (HTTP client)', (url) => url.includes('/node_modules/undici/') || url.includes('internal/deps/undici')],
  ['pino (logging)', (url) => url.includes('/node_modules/pino') || url.includes('/node_modules/sonic-boom/')],
  ['prom-client (metrics)', (url) => url.includes('/node_modules/prom-client/')],
  ['dispatcher engine (scheduler, key queues, watermark, lanes)', (url) => url.includes('/dispatcher/src/engine/')],
  ['dispatcher kafka glue (consumer.ts, decode.ts)', (url) => url.includes('/dispatcher/src/kafka/')],
  ['dispatcher delivery (payload, sign, http-deliverer)', (url) => url.includes('/dispatcher/src/delivery/')],
  ['dispatcher other', (url) => url.includes('/dispatcher/src/')],
  ['events codec', (url) => url.includes('/services/events/')],
  ['node internals: net, stream, http', (url) => /^node:internal\/(net|stream|streams|http|_http|js_stream|tls|dns)/.test(url) || /^node:(net|stream|_http|http|tls)/.test(url)],
  ['node internals: timers, promises, events', (url) => /^node:internal\/(timers|process|async_hooks|event_target|events|promises)/.test(url) || /^node:(events|timers)/.test(url)],
  ['node internals: other', (url) => url.startsWith('node:')],
  ['native / builtins (crypto, Buffer, JSON, BigInt…)', (url, fn) => url === '' && fn !== '(program)'],
  ['(program): native time V8 cannot attribute', (url, fn) => url === '' && fn === '(program)'],
  ['other', () => true]
]

function categoryOf (url: string, fn: string): string {
  for (const [name, test] of CATEGORIES) if (test(url, fn)) return name
  return 'other'
}

function shortWhere (url: string, line: number): string {
  const at = url.lastIndexOf('/node_modules/')
  const path = at >= 0 ? url.slice(at + '/node_modules/'.length) : url.replace(/^file:\/\/.*?\/dist\//, '')
  return path === '' ? '' : `${path}:${line + 1}`
}

export function summarizeProfile (profile: CpuProfile, topCount = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfMs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  const categories = new Map<string, number>()
  const functions = new Map<string, { name: string, where: string, ms: number }>()
  let busyMs = 0
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const { url, functionName, lineNumber } = node.callFrame
    const category = categoryOf(url, functionName)
    if (category === 'idle') continue
    busyMs += ms
    categories.set(category, (categories.get(category) ?? 0) + ms)
    const where = shortWhere(url, lineNumber)
    const key = `${functionName}@${where}`
    const entry = functions.get(key) ?? { name: functionName === '' ? '(anonymous)' : functionName, where, ms: 0 }
    entry.ms += ms
    functions.set(key, entry)
  }
  const share = (ms: number): number => (busyMs > 0 ? ms / busyMs : 0)
  return {
    busyMs,
    categories: [...categories].map(([name, ms]) => ({ name, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    top: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, topCount).map((f) => ({ ...f, share: share(f.ms) }))
  }
}

/** Reads the one .cpuprofile a process wrote into `dir`. */
export async function readProfile (dir: string): Promise<CpuProfile | undefined> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'))
  if (files.length === 0) return undefined
  return JSON.parse(await readFile(join(dir, files[0] as string), 'utf8')) as CpuProfile
}
