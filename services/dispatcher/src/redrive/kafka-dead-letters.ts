import type { CompressionTypes, Kafka } from 'kafkajs'
import { toDeadLetter, type DeadLetter, type DeadLetterOperations, type Page, type PageRequest } from '../dead-letters/view.js'
import { matchesFilter, summarizeDeadLetter, type RedriveFilter } from '../dead-letters/filter.js'
import { deadLetterId, decodeStateRecord, foldStateRecords, type StateRecord } from '../dead-letters/lifecycle.js'
import { PageCollector } from '../dead-letters/page.js'
import { redrive } from './run.js'
import { scanToEnd } from './scan-to-end.js'

export interface KafkaDeadLettersOptions {
  kafka: Kafka
  deadLetterTopic: string
  /** DEAD_LETTER_STATE_TOPIC: the letters' lifecycle and the running redrives. */
  stateTopic: string
  retryTopicSuffix: string
  /** Codec of the retry records a redrive writes (KAFKA_COMPRESSION). */
  compression: CompressionTypes
}

/** The admin API's dead-letter operations on the dead-letter and state topics. */
export function createKafkaDeadLetters ({ kafka, deadLetterTopic, stateTopic, retryTopicSuffix, compression }: KafkaDeadLettersOptions): DeadLetterOperations {
  return {
    list: async (filter, page) => await listDeadLetters(kafka, deadLetterTopic, stateTopic, filter, page),
    redrive: async (filter, { dryRun, again, by }) => await redrive({ kafka, deadLetterTopic, stateTopic, retryTopicSuffix, compression, filter, dryRun, again, by })
  }
}

/**
 * One page of the matching dead letters, by (partition, offset), and the
 * counts over all of them: reads the state topic, then the dead-letter topic,
 * each from its start to the end offsets captured when its read begins, with
 * throwaway groups that never commit. Every call reads everything (the
 * counts need it); the cursor only says where the page starts.
 */
async function listDeadLetters (kafka: Kafka, topic: string, stateTopic: string, filter: RedriveFilter, request: PageRequest): Promise<Page<DeadLetter>> {
  const states: StateRecord[] = []
  await scanToEnd(kafka, [stateTopic], (_t, _p, message) => {
    const record = decodeStateRecord(message.key, message.value)
    if (record !== undefined) states.push(record)
    return undefined
  }, 'whd-dead-letter-state')
  const { letters } = foldStateRecords(states)
  const collector = new PageCollector<DeadLetter>(request)
  await scanToEnd(kafka, [topic], (_t, partition, message) => {
    const summary = summarizeDeadLetter(message)
    if (!matchesFilter(summary, filter)) return undefined
    const lifecycle = letters.get(deadLetterId(topic, partition, message.offset))
    collector.offer({ partition, offset: BigInt(message.offset) }, summary.reason, lifecycle?.state ?? 'dead', () => toDeadLetter(message, topic, partition, lifecycle))
    return undefined
  }, 'whd-dead-letter-list')
  return collector.page()
}
