import type { Logger } from 'pino'
import { ShutdownTimeoutError } from './errors.js'

/**
 * What shutdown may take beyond SHUTDOWN_DEADLINE_MS (which bounds the drain
 * of deliveries) for the final commit and leaving the group. The Helm chart
 * keeps terminationGracePeriodSeconds at least 5 s above the drain deadline,
 * so this exit comes before Kubernetes' SIGKILL.
 */
export const SHUTDOWN_FINISH_MS = 4000

export interface ShutdownOptions {
  log: Logger
  /** Cleanup steps in order; each runs even if an earlier one failed. */
  steps: Array<[name: string, step: () => Promise<void>]>
  /** Hard deadline for all steps together; past it the process exits 1. */
  deadlineMs: number
  /** @defaultValue process.exit */
  exit?: (code: number) => void
}

export type ShutdownCause = 'signal' | 'fatal'

/**
 * One shutdown for the process: every step once, in order, then exit — 0
 * after a signal when every step succeeded, 1 when a step failed, the
 * deadline passed, or the shutdown was caused by a fatal error. A second
 * call (a second signal, a crash while closing) waits for the first.
 */
export function createShutdown ({ log, steps, deadlineMs, exit = (code) => process.exit(code) }: ShutdownOptions): (cause: ShutdownCause) => Promise<void> {
  let closing: Promise<void> | undefined
  return (cause) => {
    closing ??= (async () => {
      const timer = setTimeout(() => {
        log.fatal({ err: new ShutdownTimeoutError(`shutdown did not finish within ${deadlineMs} ms; exiting`) }, 'shutdown deadline passed')
        exit(1)
      }, deadlineMs)
      timer.unref()
      let failed = cause === 'fatal'
      for (const [name, step] of steps) {
        const started = performance.now()
        try {
          await step()
          log.debug({ step: name, ms: Math.round(performance.now() - started) }, 'shutdown step done')
        } catch (err) {
          failed = true
          log.error({ err, step: name }, 'shutdown step failed')
        }
      }
      clearTimeout(timer)
      log.info({ failed, cause }, 'shutdown complete')
      exit(failed ? 1 : 0)
    })()
    return closing
  }
}

/**
 * Routes SIGTERM/SIGINT to a clean shutdown, and an unhandled rejection or
 * uncaught exception to a logged one that exits non-zero. `shutdown` is
 * asked for at the moment it is needed: before the steps exist (early in
 * start-up) a fatal error exits 1 at once.
 */
export function installProcessHandlers (log: Logger, shutdown: () => ((cause: ShutdownCause) => Promise<void>) | undefined, exit: (code: number) => void = (code) => process.exit(code)): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      log.info({ signal }, 'shutting down')
      const run = shutdown()
      if (run === undefined) exit(0)
      else void run('signal')
    })
  }
  process.on('unhandledRejection', fatalErrorHandler('unhandled promise rejection', log, shutdown, exit))
  process.on('uncaughtException', fatalErrorHandler('uncaught exception', log, shutdown, exit))
}

/** Logs a crash-worthy error and shuts down with a non-zero exit (at once, before shutdown exists). */
export function fatalErrorHandler (kind: string, log: Logger, shutdown: () => ((cause: ShutdownCause) => Promise<void>) | undefined, exit: (code: number) => void): (err: unknown) => void {
  return (err) => {
    log.fatal({ err }, `${kind}; shutting down`)
    const run = shutdown()
    if (run === undefined) exit(1)
    else void run('fatal')
  }
}
