import { pino, type Logger } from 'pino'

/**
 * JSON logs (pino). Secrets and authorization headers are removed by path
 * wherever they appear in a logged object; payloads are never logged.
 */
export function createLogger (level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'webhook-dispatcher' },
    redact: {
      paths: [
        'secret', 'secrets', '*.secret', '*.secrets', '*.*.secrets',
        'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
        'headers["webhook-signature"]', '*.headers["webhook-signature"]',
        'body', '*.body', 'value', '*.value'
      ],
      censor: '[redacted]'
    },
    timestamp: pino.stdTimeFunctions.isoTime
  }, destination as pino.DestinationStream | undefined)
}

/**
 * Reports an invalid configuration before any logger is configured (LOG_LEVEL
 * may be what is wrong): one plain line on stderr for a person, with the
 * stable code, and one JSON line on stdout, as the dispatcher logs everything
 * else, so a log search for `WHD_ERR_CONFIG` finds it either way.
 */
export function reportConfigError (err: unknown, streams: { stderr?: NodeJS.WritableStream, stdout?: NodeJS.WritableStream } = {}): void {
  const { code, variable, message } = err as { code?: unknown, variable?: unknown, message?: unknown }
  const tag = typeof code === 'string' ? code : 'WHD_ERR_CONFIG'
  const text = typeof message === 'string' ? message : String(err)
  ;(streams.stderr ?? process.stderr).write(`webhook-dispatcher: invalid configuration [${tag}]: ${text}\n`)
  createLogger('info', streams.stdout ?? process.stdout).child({ module: 'main' }).fatal({
    err,
    code: tag,
    ...(typeof variable === 'string' ? { variable } : {})
  }, 'invalid configuration')
}
