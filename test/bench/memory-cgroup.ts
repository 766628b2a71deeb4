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

/** A new memory cgroup limited to `limitBytes`, or why none could be made. */
export async function createMemoryCgroup (limitBytes: number, name: string): Promise<MemoryCgroup | { unavailable: string }> {
  if (process.platform !== 'linux') return { unavailable: 'not Linux' }
  const attempts: string[] = []
  const v1 = await ownPath('memory')
  if (v1 !== undefined) {
    const dir = join('/sys/fs/cgroup/memory', v1, name)
    try {
      await mkdir(dir)
      await writeFile(join(dir, 'memory.limit_in_bytes'), String(limitBytes))
      return {
        procsFile: join(dir, 'cgroup.procs'),
        limitBytes,
        peakBytes: async () => await readNumber(join(dir, 'memory.max_usage_in_bytes')),
        oomKills: async () => await oomKillsIn(join(dir, 'memory.oom_control')),
        remove: async () => { await rmdir(dir).catch(() => undefined) }
      }
    } catch (err) {
      attempts.push(`cgroup v1 ${dir}: ${(err as Error).message}`)
    }
  }
  const v2 = await ownPath('')
  if (v2 !== undefined) {
    for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const dir = join(root, v2, name)
      try {
        await mkdir(dir)
        await writeFile(join(dir, 'memory.max'), String(limitBytes))
        return {
          procsFile: join(dir, 'cgroup.procs'),
          limitBytes,
          peakBytes: async () => await readNumber(join(dir, 'memory.peak')),
          oomKills: async () => await oomKillsIn(join(dir, 'memory.events')),
          remove: async () => { await rmdir(dir).catch(() => undefined) }
        }
      } catch (err) {
        attempts.push(`cgroup v2 ${dir}: ${(err as Error).message}`)
        await rmdir(dir).catch(() => undefined)
      }
    }
  }
  return { unavailable: attempts.length === 0 ? 'no memory cgroup found' : attempts.join('; ') }
}
