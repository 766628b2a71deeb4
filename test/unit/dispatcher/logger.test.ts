import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../services/dispatcher/src/errors.js'
import { reportConfigError } from '../../../services/dispatcher/src/logger.js'

const collect = (): { stream: PassThrough, text: () => string } => {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (chunk: Buffer) => { text += chunk.toString() })
  return { stream, text: () => text }
}

describe('reportConfigError', () => {
  it('prints the stable code on stderr and a JSON line with code and variable on stdout', () => {
    const stderr = collect()
    const stdout = collect()
    reportConfigError(new ConfigError('RETRY_SCHEDULE_MS', 'must be a comma-separated list of positive integers, got "x"'), { stderr: stderr.stream, stdout: stdout.stream })
    expect(stderr.text()).toBe('webhook-dispatcher: invalid configuration [WHD_ERR_CONFIG]: RETRY_SCHEDULE_MS: must be a comma-separated list of positive integers, got "x"\n')
    const line = JSON.parse(stdout.text().trim()) as Record<string, unknown>
    expect(line).toMatchObject({ level: 60, module: 'main', msg: 'invalid configuration', code: 'WHD_ERR_CONFIG', variable: 'RETRY_SCHEDULE_MS', service: 'webhook-dispatcher' })
    expect(line.err).toMatchObject({ type: 'ConfigError', message: expect.stringContaining('RETRY_SCHEDULE_MS') })
  })
})
