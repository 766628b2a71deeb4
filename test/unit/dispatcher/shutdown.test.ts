import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createShutdown, fatalErrorHandler } from '../../../services/dispatcher/src/shutdown.js'

function capturingLog (): { log: pino.Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
  return { log, lines }
}

describe('shutdown', () => {
  afterEach(() => { vi.useRealTimers() })

  it('runs every step once, in order, even after one fails; a second call waits for the first', async () => {
    const { log } = capturingLog()
    const ran: string[] = []
    const exit = vi.fn()
    const shutdown = createShutdown({
      log,
      deadlineMs: 10_000,
      exit,
      steps: [
        ['a', async () => { ran.push('a') }],
        ['b', async () => { ran.push('b'); throw new Error('b broke') }],
        ['c', async () => { ran.push('c') }]
      ]
    })
    const first = shutdown('signal')
    const second = shutdown('signal')
    expect(second).toBe(first)
    await first
    expect(ran).toEqual(['a', 'b', 'c'])
    expect(exit.mock.calls).toEqual([[1]])
  })

  it('exits 0 after a signal when every step succeeded, 1 when a fatal error caused it', async () => {
    const { log } = capturingLog()
    const clean = vi.fn()
    await createShutdown({ log, deadlineMs: 10_000, exit: clean, steps: [['a', async () => {}]] })('signal')
    expect(clean.mock.calls).toEqual([[0]])
    const crashed = vi.fn()
    await createShutdown({ log, deadlineMs: 10_000, exit: crashed, steps: [['a', async () => {}]] })('fatal')
    expect(crashed.mock.calls).toEqual([[1]])
  })

  it('exits 1 with WHD_ERR_SHUTDOWN_TIMEOUT when the steps outlast the overall deadline', async () => {
    vi.useFakeTimers()
    const { log, lines } = capturingLog()
    const exit = vi.fn()
    void createShutdown({ log, deadlineMs: 5000, exit, steps: [['hangs', async () => await new Promise(() => {})]] })('signal')
    await vi.advanceTimersByTimeAsync(4999)
    expect(exit).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(exit.mock.calls).toEqual([[1]])
    expect(lines.find((l) => l.msg === 'shutdown deadline passed')?.err).toMatchObject({ code: 'WHD_ERR_SHUTDOWN_TIMEOUT' })
  })

  it('turns an unhandled rejection into a logged shutdown that exits non-zero, or an exit at once before shutdown exists', async () => {
    const { log, lines } = capturingLog()
    const early = vi.fn()
    fatalErrorHandler('unhandled promise rejection', log, () => undefined, early)(new Error('nobody awaited me'))
    expect(early.mock.calls).toEqual([[1]])
    expect(lines.at(-1)).toMatchObject({ level: 60, msg: 'unhandled promise rejection; shutting down', err: { message: 'nobody awaited me' } })

    const exit = vi.fn()
    const steps = vi.fn(async () => {})
    const shutdown = createShutdown({ log, deadlineMs: 10_000, exit, steps: [['close', steps]] })
    fatalErrorHandler('uncaught exception', log, () => shutdown, vi.fn())(new Error('boom'))
    await shutdown('fatal')
    expect(steps).toHaveBeenCalledTimes(1)
    expect(exit.mock.calls).toEqual([[1]])
  })
})
