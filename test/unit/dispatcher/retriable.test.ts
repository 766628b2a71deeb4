import { describe, expect, it } from 'vitest'
import { retryRetriable } from '../../../services/dispatcher/src/retriable.js'

describe('retryRetriable', () => {
  it('retries retriable errors until the call succeeds', async () => {
    let calls = 0
    const result = await retryRetriable(async () => {
      calls++
      if (calls < 3) throw Object.assign(new Error('not yet'), { retriable: true })
      return 'ok'
    }, { delayMs: 1 })
    expect(result).toBe('ok')
    expect(calls).toBe(3)
  })

  it('rethrows a non-retriable error at once', async () => {
    let calls = 0
    await expect(retryRetriable(async () => {
      calls++
      throw Object.assign(new Error('bad'), { retriable: false })
    }, { delayMs: 1 })).rejects.toThrow('bad')
    expect(calls).toBe(1)
  })

  it('gives up after the attempts', async () => {
    let calls = 0
    await expect(retryRetriable(async () => {
      calls++
      throw Object.assign(new Error('still'), { retriable: true })
    }, { attempts: 4, delayMs: 1 })).rejects.toThrow('still')
    expect(calls).toBe(4)
  })
})
