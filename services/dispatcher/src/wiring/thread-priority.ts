// Lowers the scheduling priority of the calling thread only. On Linux a
// thread is a task with an id of its own (/proc/thread-self names it), and
// setpriority() on that id leaves the process's other threads alone; raising
// one's own nice value needs no privilege.
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'

/** Sets this thread's nice value; false where that is not possible (not Linux, no /proc). */
export function niceThisThread (nice: number): boolean {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isInteger(threadId) || threadId <= 0) return false
    setPriority(threadId, nice)
    return true
  } catch {
    return false
  }
}
