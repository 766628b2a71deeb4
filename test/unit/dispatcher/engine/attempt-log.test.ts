import { describe, expect, it } from 'vitest'
import { resultFields } from '../../../../services/dispatcher/src/engine/attempt-log.js'

describe('resultFields (what a history record says of an answer; every lane uses it)', () => {
  it('keeps the status, and the start of the body only when the deliverer kept one', () => {
    expect(resultFields({ kind: 'response', status: 503, headers: {}, durationMs: 3, bodyPrefix: 'busy' })).toEqual({ httpStatus: 503, responseBodyPrefix: 'busy' })
    expect(resultFields({ kind: 'response', status: 204, headers: {}, durationMs: 3 })).toEqual({ httpStatus: 204 })
  })

  it('keeps the error code of an attempt that got no answer', () => {
    expect(resultFields({ kind: 'error', code: 'timeout', message: 'no answer within 30 s', durationMs: 30_000 })).toEqual({ errorCode: 'timeout' })
  })
})
