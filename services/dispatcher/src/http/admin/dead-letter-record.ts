// From a dead-letter record (kafka/parked-record.ts format) to what the admin
// API lists: for the Kafka-backed DeadLetterOperations.list. Pure.
import type { IHeaders } from 'kafkajs'
import { H, header, intHeader } from '../../kafka/parked-record.js'
import { summarizeDeadLetter } from '../../redrive/filter.js'
import type { DeadLetter } from './types.js'

/** The listed fields of one dead letter at `topic`/`partition`/`offset`; never the payload. */
export function toDeadLetter (
  message: { key: Buffer | null, value: Buffer | null, headers?: IHeaders, offset: string },
  topic: string,
  partition: number
): DeadLetter {
  const headers = message.headers ?? {}
  const letter: DeadLetter = { topic, partition, offset: message.offset, ...summarizeDeadLetter(message) }
  const attempts = intHeader(headers, H.attempts)
  if (attempts !== undefined) letter.attempts = attempts
  const firstFailureAt = intHeader(headers, H.firstFailureAt)
  if (firstFailureAt !== undefined) letter.firstFailureAt = firstFailureAt
  const lastStatus = intHeader(headers, H.lastStatus)
  if (lastStatus !== undefined) letter.lastStatus = lastStatus
  const lastError = header(headers, H.lastError)
  if (lastError !== undefined) letter.lastError = lastError
  return letter
}
