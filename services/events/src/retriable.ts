/**
 * Runs a Kafka call again while it fails with a retriable error, e.g. the
 * metadata of a topic created a moment ago not having reached the broker
 * answering yet (UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER). kafkajs retries
 * such errors itself only within one request's budget.
 */
export async function retryRetriable<T> (call: () => Promise<T>, { attempts = 20, delayMs = 250 }: { attempts?: number, delayMs?: number } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true || attempt >= attempts) throw err
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}
