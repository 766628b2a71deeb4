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
