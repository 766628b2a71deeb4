import { describe, expect, it } from 'vitest'
import { replayWidth } from '../../../../services/dispatcher/src/replay/runner.js'

describe('replay width: deliveries one replay job runs at once to its endpoint', () => {
  it('is the job budget when the endpoint allows more', () => {
    expect(replayWidth({ maxInFlight: 4, endpointMaxInFlight: 64 }, {})).toBe(4)
    expect(replayWidth({ maxInFlight: 4, endpointMaxInFlight: 64 }, { maxInFlight: 10 })).toBe(4)
  })

  it('keeps to the endpoint\'s own cap', () => {
    expect(replayWidth({ maxInFlight: 16, endpointMaxInFlight: 64 }, { maxInFlight: 2 })).toBe(2)
  })

  it('keeps to ENDPOINT_MAX_IN_FLIGHT when the endpoint sets no cap of its own', () => {
    expect(replayWidth({ maxInFlight: 16, endpointMaxInFlight: 8 }, {})).toBe(8)
  })
})
