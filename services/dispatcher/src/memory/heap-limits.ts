import { totalmem } from 'node:os'

/**
 * V8 heap limits that keep the dispatcher inside a container's memory limit.
 *
 * With V8's own sizing, a burst — 1,000,000 deliveries of a down endpoint
 * parked at once, 12 partitions — peaked at 906 MiB of RSS and the kernel
 * killed the process in a 512 MiB container, though it then sits at
 * 342 MiB (bench/backlog.md). V8 sizes the main thread's heap at half the
 * container's limit (259 MiB in 512 MiB) and lets garbage pile up to it; the
 * history threads had 256 MiB of old space each, whatever the limit; and
 * the process has memory outside any heap besides (buffers, the parked
 * deliveries' packed bytes, SQLite, code). With the main thread at 3/8 of
 * the limit and each history thread at an eighth, the same burst peaked at
 * 492 MiB in a 512 MiB container and sat at 400 MiB, never killed; parking
 * took 289 s instead of 186 s, the price of collecting more often.
 *
 * The history threads' limits are set by the dispatcher itself, from the
 * cgroup limit Node reports. The main thread's heap is sized by V8 before any
 * code runs, so its limit is a Node flag: the Helm chart passes
 * `--max-old-space-size` in NODE_OPTIONS ({@link mainHeapLimitMib} of
 * `resources.limits.memory`), and the backlog bench does the same.
 *
 * A writer or indexer thread that runs out of heap ends the process
 * (exit 1, the error logged); nothing uncommitted is lost, as commits wait
 * for the history. The SQLite reader thread, under the same limits, ends
 * alone: only its queries fail (wiring/history-reader.ts).
 */

export interface ThreadHeapLimits {
  maxYoungGenerationSizeMb: number
  maxOldGenerationSizeMb: number
}

/** Old-space limit of a history thread when the process has no memory limit, and the most it gets with one. */
export const MAX_OLD_MIB = 256
/**
 * Old-space limit of a history thread, however small the memory limit:
 * what a thread holds live is one fetch of the attempts topic decoded (the
 * indexer) or the records awaiting a write (the writer), tens of MiB.
 */
export const MIN_OLD_MIB = 48
/** Share of the memory limit each history thread's old space may take. */
export const THREAD_OLD_SHARE = 1 / 8
/** Share of the memory limit the main thread's heap may take (`--max-old-space-size`). */
export const MAIN_HEAP_SHARE = 3 / 8
const YOUNG_MIB = 16
/** A history thread's young generation under a limit of {@link SMALL_LIMIT_MIB} or less. */
const YOUNG_MIB_SMALL = 8
const SMALL_LIMIT_MIB = 1024

/**
 * Each history thread's limits. `limitBytes`: the memory the process may
 * use ({@link processMemoryLimit}); undefined without a limit.
 */
export function historyThreadLimits (limitBytes: number | undefined): ThreadHeapLimits {
  if (limitBytes === undefined || !Number.isFinite(limitBytes) || limitBytes <= 0) {
    return { maxYoungGenerationSizeMb: YOUNG_MIB, maxOldGenerationSizeMb: MAX_OLD_MIB }
  }
  const limitMib = limitBytes / 2 ** 20
  const old = Math.min(MAX_OLD_MIB, Math.max(MIN_OLD_MIB, Math.floor(limitMib * THREAD_OLD_SHARE)))
  return { maxYoungGenerationSizeMb: limitMib <= SMALL_LIMIT_MIB ? YOUNG_MIB_SMALL : YOUNG_MIB, maxOldGenerationSizeMb: old }
}

/** The main thread's `--max-old-space-size` (MiB) for a memory limit of `limitMib` MiB: 192 in 512 MiB. */
export function mainHeapLimitMib (limitMib: number): number {
  return Math.floor(limitMib * MAIN_HEAP_SHARE)
}

/**
 * The process's memory limit in bytes: the cgroup's (a container's), when it
 * is below the machine's memory; undefined otherwise (Node reports 0, or a
 * huge number, without one).
 */
export function processMemoryLimit (constrained: number, total: number): number | undefined {
  return constrained > 0 && constrained < total ? constrained : undefined
}

/** {@link processMemoryLimit} of this process. */
export function memoryLimitOfThisProcess (): number | undefined {
  return processMemoryLimit(process.constrainedMemory(), totalmem())
}

/** Slack above {@link mainHeapLimitMib} before the main heap's limit is worth a warning (V8 rounds it). */
const MAIN_HEAP_SLACK_MIB = 16

/**
 * Under a memory limit, whether the main thread's heap limit (V8's
 * heap_size_limit, set by `--max-old-space-size` or by V8 from the limit) is
 * above what keeps the process inside it; then the flag that would. Outside
 * the Helm chart nobody sets it: V8 alone takes half the limit.
 */
export function mainHeapAdvice (limitBytes: number | undefined, heapLimitBytes: number): { limitMib: number, heapLimitMib: number, flag: string } | undefined {
  if (limitBytes === undefined) return undefined
  const limitMib = Math.floor(limitBytes / 2 ** 20)
  const heapLimitMib = Math.floor(heapLimitBytes / 2 ** 20)
  const wanted = mainHeapLimitMib(limitMib)
  return heapLimitMib > wanted + MAIN_HEAP_SLACK_MIB ? { limitMib, heapLimitMib, flag: `--max-old-space-size=${wanted}` } : undefined
}
