// A memory cgroup with a limit, for the backlog bench's dispatcher: what a
// container's memory limit does (Kubernetes' resources.limits.memory). The
// dispatcher joins it before node starts (test/support/dispatcher-process.ts),
// so V8 sizes its heaps from the limit as it does in a container, and the
// kernel holds the process to it: it fits, or it is killed (counted here).
// Linux only, cgroup v1 or v2, and only where this process may make one
// (root, or a delegated subtree); elsewhere the bench says so and runs
// without a limit.
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface MemoryCgroup {
  /** Write a pid here to move that process in. */
  readonly procsFile: string
  readonly limitBytes: number
  /** The most memory the group used (cgroup accounting: anonymous memory and page cache), bytes. */
  peakBytes: () => Promise<number | undefined>
  /** Processes the kernel killed for the limit. */
  oomKills: () => Promise<number>
  /** Removes the group (its processes must have exited). */
  remove: () => Promise<void>
}

async function ownPath (controller: 'memory' | ''): Promise<string | undefined> {
  const lines = (await readFile('/proc/self/cgroup', 'utf8')).split('\n')
  for (const line of lines) {
    const [, controllers, path] = line.split(':')
    if (controllers === undefined || path === undefined) continue
    if (controller === '' ? line.startsWith('0::') : controllers.split(',').includes(controller)) return path
  }
  return undefined
}

async function readNumber (file: string): Promise<number | undefined> {
  try {
    const value = Number((await readFile(file, 'utf8')).trim())
    return Number.isFinite(value) ? value : undefined
  } catch {
    return undefined
  }
}

async function oomKillsIn (file: string): Promise<number> {
  try {
    return Number(/^oom_kill (\d+)$/m.exec(await readFile(file, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

// One group's handle: `files` names its limit, peak and event counters
// (they differ between cgroup v1 and v2).
async function makeGroup (dir: string, limitBytes: number, files: { limit: string, peak: string, events: string }): Promise<MemoryCgroup> {
  await mkdir(dir)
  try {
    await writeFile(join(dir, files.limit), String(limitBytes))
  } catch (err) {
    await rmdir(dir).catch(() => undefined)
    throw err
  }
  return {
    procsFile: join(dir, 'cgroup.procs'),
    limitBytes,
    peakBytes: async () => await readNumber(join(dir, files.peak)),
    oomKills: async () => await oomKillsIn(join(dir, files.events)),
    remove: async () => { await rmdir(dir).catch(() => undefined) }
  }
}

/** A new memory cgroup limited to `limitBytes`, or why none could be made. */
export async function createMemoryCgroup (limitBytes: number, name: string): Promise<MemoryCgroup | { unavailable: string }> {
  if (process.platform !== 'linux') return { unavailable: 'not Linux' }
  const attempts: string[] = []
  const v1 = await ownPath('memory')
  const v2 = await ownPath('')
  const candidates = [
    ...(v1 === undefined ? [] : [{ dir: join('/sys/fs/cgroup/memory', v1, name), files: { limit: 'memory.limit_in_bytes', peak: 'memory.max_usage_in_bytes', events: 'memory.oom_control' } }]),
    ...(v2 === undefined ? [] : ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].map((root) => ({ dir: join(root, v2, name), files: { limit: 'memory.max', peak: 'memory.peak', events: 'memory.events' } })))
  ]
  for (const { dir, files } of candidates) {
    try {
      return await makeGroup(dir, limitBytes, files)
    } catch (err) {
      attempts.push(`${dir}: ${(err as Error).message}`)
    }
  }
  return { unavailable: attempts.length === 0 ? 'no memory cgroup found' : attempts.join('; ') }
}
