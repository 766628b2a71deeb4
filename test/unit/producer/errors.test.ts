import { describe, expect, it } from 'vitest'
import { ProducerError, ProducerNotConnectedError, TopicMissingError } from '../../../services/producer/src/index.js'

describe('producer errors', () => {
  it.each([
    [new TopicMissingError(['a', 'b']), 'TopicMissingError', 'WHP_ERR_TOPIC_MISSING', false],
    [new ProducerNotConnectedError('closed'), 'ProducerNotConnectedError', 'WHP_ERR_NOT_CONNECTED', false]
  ])('%s has name %s, code %s, retriable %s', (error, name, code, retriable) => {
    expect(error).toBeInstanceOf(ProducerError)
    expect(error.name).toBe(name)
    expect(error.code).toBe(code)
    expect((error.constructor as unknown as { code: string }).code).toBe(code)
    expect(error.retriable).toBe(retriable)
  })

  it('lists the missing topics', () => {
    const error = new TopicMissingError(['banking.accounts.v1'])
    expect(error.topics).toEqual(['banking.accounts.v1'])
    expect(error.message).toContain('banking.accounts.v1')
  })
})
