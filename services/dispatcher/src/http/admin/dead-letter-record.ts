// From a dead-letter record (kafka/parked-record.ts format) to what the admin
// API lists: for the Kafka-backed DeadLetterOperations.list. Pure.
import type { IHeaders } from 'kafkajs'
import { H, readDeliveryState } from '../../kafka/parked-record.js'
import { summarizeDeadLetter } from '../../redrive/filter.js'
import type { DeadLetter } from './types.js'

/** The listed fields of one dead letter at `topic`/`partition`/`offset`; never the payload. */
export function toDeadLetter (
  message: { key: Buffer | null, value: Buffer | null, headers?: IHeaders, offset: string },
  topic: string,
  partition: number
): DeadLetter {
  const { subscriptionId: _subscriptionId, attempts, ...delivery } = readDeliveryState(message.headers ?? {})
  const letter: DeadLetter = { topic, partition, offset: message.offset, ...summarizeDeadLetter(message), ...delivery }
  // A dead letter without the header (an undecodable source record) shows no attempts.
  if (message.headers?.[H.attempts] !== undefined) letter.attempts = attempts
  return letter
}
