import { describe, expect, it } from 'vitest'
import { deadLetterDetail, MAX_DETAIL_LENGTH } from '../../../../services/dispatcher/src/engine/dead-letter-detail.js'
import { H, toDeadLetterRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'

describe('dead-letter detail', () => {
  it('is the decoder\'s message for bad input', () => {
    expect(deadLetterDetail('tombstone', { attempts: 0 }, 'record has a null value (a tombstone), not an event')).toBe('record has a null value (a tombstone), not an event')
  })

  it('says how a delivery ended, with its last failure', () => {
    expect(deadLetterDetail('retries-exhausted', { attempts: 7, firstFailureAt: Date.UTC(2026, 0, 2), lastStatus: 503, lastError: 'HTTP 503' }))
      .toBe('retries exhausted after 7 attempts since 2026-01-02T00:00:00.000Z; last failure: HTTP 503, HTTP 503')
    expect(deadLetterDetail('endpoint-gone', { attempts: 1, lastStatus: 410 })).toBe('the endpoint answered 410 Gone and is now disabled; last failure: HTTP 410')
    expect(deadLetterDetail('endpoint-disabled', { attempts: 0 })).toMatch(/disabled/)
    expect(deadLetterDetail('endpoint-quarantined', { attempts: 0 })).toMatch(/quarantined/)
    expect(deadLetterDetail('malformed-parked-record', { attempts: 0 })).toMatch(/whd- headers/)
  })

  it('is bounded', () => {
    const detail = deadLetterDetail('corrupt-avro', { attempts: 0 }, 'x'.repeat(2000))
    expect(detail.length).toBe(MAX_DETAIL_LENGTH)
    expect(detail.endsWith('…')).toBe(true)
  })

  it('rides on every dead-letter record beside the reason', () => {
    const record = { key: Buffer.from('acc-1'), value: null, headers: {}, timestamp: 5 }
    const letter = toDeadLetterRecord({ source: { topic: 't', partition: 0, offset: 9n }, record, attempts: 0 }, 'tombstone', 10, 'record has a null value (a tombstone), not an event')
    expect(letter.headers[H.reason]).toBe('tombstone')
    expect(letter.headers[H.detail]).toBe('record has a null value (a tombstone), not an event')
    const exhausted = toDeadLetterRecord({ source: { topic: 't', partition: 0, offset: 9n }, record, attempts: 3, subscriptionId: 's' }, 'retries-exhausted', 10)
    expect(exhausted.headers[H.detail]).toBe('retries exhausted after 3 attempts')
  })
})
