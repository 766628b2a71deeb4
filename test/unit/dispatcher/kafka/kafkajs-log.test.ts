import { logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { isTransientKafkaError, kafkajsLineLevel } from '../../../../services/dispatcher/src/kafka/kafkajs-log.js'

describe('kafkajs log levels', () => {
  it.each([
    ['a topic not yet in the answering broker\'s metadata', 'Connection', { message: 'Response Metadata(key: 3, version: 6)', error: 'This server does not host this topic-partition' }],
    ['a group coordinator not available yet', 'Connection', { message: 'Response FindCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' }],
    ['a coordinator still loading', 'Connection', { message: 'Response JoinGroup(key: 11, version: 5)', error: 'The coordinator is loading and hence can\'t process requests for this group' }],
    ['a topic another instance created a moment before', 'Connection', { message: 'Response CreateTopics(key: 19, version: 3)', error: 'Topic creation errors' }],
    ['a consumer restarting after such an answer', 'Consumer', { message: 'Crash: KafkaJSProtocolError: The coordinator is loading and hence can\'t process requests for this group' }],
    ['the restart that follows', 'Consumer', { message: 'Restarting the consumer in 300ms' }],
    ['a rejoin on a membership change', 'Runner', { message: 'The group is rebalancing, re-joining' }]
  ])('puts %s below warning', (_, namespace, entry) => {
    expect(kafkajsLineLevel(logLevel.ERROR, namespace, entry)).toBe('info')
  })

  it('keeps everything else as kafkajs rates it', () => {
    expect(kafkajsLineLevel(logLevel.ERROR, 'Connection', { message: 'Response SaslAuthenticate(key: 36, version: 1)', error: 'Authentication failed' })).toBe('error')
    expect(kafkajsLineLevel(logLevel.ERROR, 'Consumer', { message: 'Crash: KafkaJSNonRetriableError: Topic authorization failed' })).toBe('error')
    expect(kafkajsLineLevel(logLevel.ERROR, 'BrokerPool', { message: 'Failed to connect to seed broker, trying another broker from the list' })).toBe('error')
    expect(kafkajsLineLevel(logLevel.WARN, 'ConsumerGroup', { message: 'Consumer group received unsubscribed topics' })).toBe('warn')
  })

  it('recognises a transient answer in an error or its cause', () => {
    expect(isTransientKafkaError(new Error('The group coordinator is not available'))).toBe(true)
    expect(isTransientKafkaError(new Error('retries exceeded', { cause: new Error('The coordinator is loading and hence can\'t process requests for this group') }))).toBe(true)
    expect(isTransientKafkaError(new Error('Topic authorization failed'))).toBe(false)
  })
})
