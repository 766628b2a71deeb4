import type { Logger } from 'pino'

export interface ShutdownOptions {
  log: Logger
  /** Cleanup steps in order; each runs even if an earlier one failed. */
  steps: Array<[name: string, step: () => Promise<void>]>
  signals?: NodeJS.Signals[]
}

/**
 * On SIGTERM or SIGINT: run every step once, in order, then exit 0 (or 1 if
 * a step failed). A second signal while closing waits for the first close —
 * it does not start another.
 */
export function installShutdown ({ log, steps, signals = ['SIGTERM', 'SIGINT'] }: ShutdownOptions): () => Promise<void> {
  let closing: Promise<void> | undefined
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      let failed = false
      for (const [name, step] of steps) {
        try {
          await step()
        } catch (err) {
          failed = true
          log.error({ err, step: name }, 'shutdown step failed')
        }
      }
      log.info({ failed }, 'shutdown complete')
      process.exitCode = failed ? 1 : 0
    })()
    return closing
  }
  for (const signal of signals) {
    process.on(signal, () => {
      log.info({ signal }, 'shutting down')
      void shutdown().then(() => process.exit())
    })
  }
  return shutdown
}
