// The replay jobs topic: compacted, one partition, keyed by job id; each
// record is a job's whole state (request, checkpoints, counters), so the
// latest record per key is the job. One partition gives every writer one
// order, and the consumer group over it one owner (replay/coordinator.ts).
import type { Admin, CompressionTypes, Kafka, KafkaMessage, Producer } from 'kafkajs'
import { decodeReplayJob, encodeReplayJob, foldReplayJob, type ReplayJob } from '../engine/replay-job.js'
import { retryRetriable } from '../retriable.js'
import { scanToEnd } from '../redrive/scan-to-end.js'

const TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact' },
  // A finished job stays until its owner deletes it (REPLAY_KEEP_FINISHED_DAYS):
  // a tombstone, which compaction then removes with the job's records.
  { name: 'min.compaction.lag.ms', value: '0' }
] as const

export async function ensureReplayTopic (admin: Admin, topic: string, replicationFactor = -1): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false
  await retryRetriable(async () => await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor, configEntries: TOPIC_CONFIG.map((entry) => ({ ...entry })) }],
    waitForLeaders: true
  }))
  return true
}

/** Folds job records in log order: the latest per id wins. */
export function foldJobMessage (jobs: Map<string, ReplayJob>, message: Pick<KafkaMessage, 'key' | 'value'>): void {
  const id = message.key?.toString('utf8')
  if (id === undefined) return
  const job = decodeReplayJob(message.value)
  if (job === undefined) jobs.delete(id)
  else jobs.set(id, foldReplayJob(jobs.get(id), job))
}

/** Every job, read from the topic's start to the end it has now. */
export async function readReplayJobs (kafka: Kafka, topic: string): Promise<Map<string, ReplayJob>> {
  const jobs = new Map<string, ReplayJob>()
  await scanToEnd(kafka, [topic], (_topic, _partition, message) => {
    foldJobMessage(jobs, message)
    return undefined
  }, 'whd-replay-jobs')
  return jobs
}

export async function writeReplayJob (producer: Producer, topic: string, job: ReplayJob, compression?: CompressionTypes): Promise<void> {
  await producer.send({ topic, acks: -1, compression, messages: [{ key: job.id, value: encodeReplayJob(job), partition: 0 }] })
}

/** Deletes a job: a tombstone, after which readers no longer list it. */
export async function deleteReplayJob (producer: Producer, topic: string, id: string, compression?: CompressionTypes): Promise<void> {
  await producer.send({ topic, acks: -1, compression, messages: [{ key: id, value: null, partition: 0 }] })
}
