/**
 * Errors of the producer library. Validation, registry and encoding errors
 * come from the events module (see its README for their codes); Kafka errors
 * are kafkajs's own (with their `retriable` flag).
 */

export abstract class ProducerError extends Error {
  abstract readonly code: string
  readonly retriable: boolean

  constructor (message: string, options: { retriable: boolean, cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.retriable = options.retriable
  }
}

/**
 * A source topic does not exist. The producer does not create topics on
 * its own (auto-creation would pick the broker's partition count); run
 * `ensureTopics` or the simulator, or create them in deployment.
 */
export class TopicMissingError extends ProducerError {
  static readonly code = 'WHP_ERR_TOPIC_MISSING'
  readonly code = TopicMissingError.code
  readonly topics: readonly string[]

  constructor (topics: readonly string[]) {
    super(`source topic(s) missing: ${topics.join(', ')}; create them first (ensureTopics)`, { retriable: false })
    this.topics = topics
  }
}

/** publish called before connect() or after disconnect(). */
export class ProducerNotConnectedError extends ProducerError {
  static readonly code = 'WHP_ERR_NOT_CONNECTED'
  readonly code = ProducerNotConnectedError.code

  constructor (state: string) {
    super(`banking producer is ${state}; call connect() first`, { retriable: false })
  }
}
