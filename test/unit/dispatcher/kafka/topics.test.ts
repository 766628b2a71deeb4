import { describe, expect, it } from 'vitest'
import { replicationProblem } from '../../../../services/dispatcher/src/kafka/topics.js'

describe('replicationProblem', () => {
  it('accepts as many replicas as brokers, or fewer', () => {
    expect(replicationProblem(1, 1, 't')).toBeUndefined()
    expect(replicationProblem(3, 3, 't')).toBeUndefined()
    expect(replicationProblem(2, 5, 't')).toBeUndefined()
  })

  it('names the value, the broker count and the topic when there are fewer brokers than replicas', () => {
    expect(replicationProblem(3, 1, 'src.retry')).toBe('is 3, but the Kafka cluster has 1 broker, so topic "src.retry" cannot be created; set it to at most 1 (or create the topics beforehand)')
    expect(replicationProblem(3, 2, 'dlq')).toMatch(/has 2 brokers, so topic "dlq"/)
  })
})
