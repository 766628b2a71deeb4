import type { EachBatchPayload, KafkaMessage } from 'kafkajs'
import type { Logger } from 'pino'
import { undecodableBatchOf } from '../../../events/src/index.js'
import type { RawRecord } from '../engine/delivery-task.js'
import { readHandoverMarker } from '../engine/handover.js'
import { H, header } from '../engine/parked-record.js'
import type { PartitionPair } from '../engine/partition-pair.js'
import type { RecordPlanner } from '../engine/record-plan.js'
import type { Metrics } from '../metrics.js'
import type { PartitionPauses } from './partition-pauses.js'

export interface BatchReaderDeps {
  planner: RecordPlanner
  pauses: PartitionPauses
  metrics: Pick<Metrics, 'lateParks'>
  log: Logger
  now: () => number
  /** RETRY_MAX_PARKED_TRACKED: parked items a retry partition holds, with their bytes or without, before it stops reading ahead. */
  retryMaxParkedTracked: number
  /** Moves a partition's fetch position (kafkajs seek): reading a retry partition again, or skipping ahead when that is done. */
  seek: (topic: string, partition: number, offset: bigint) => void
  /** Shutdown has begun: nothing more is taken in. */
  draining: () => boolean
  requestPump: () => void
}

/**
 * What eachBatch does with a batch of a source partition: takes records into
 * the pair's source lane, in order, until the handover gate, a full window,
 * a registry outage or an undecodable batch pauses the partition. Never
 * waits for a delivery.
 */
export async function readSourceBatch (deps: BatchReaderDeps, pair: PartitionPair, { batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
  const { topic, partition } = batch
  const { pauses } = deps
  if (pair.source.closed || deps.draining()) return
  if (!pair.rebuilt) {
    pauses.pauseUntil(topic, partition, () => pair.rebuilt || pair.source.closed)
    return
  }
  for (const message of batch.messages) {
    if (!isRunning() || isStale() || pair.source.closed || deps.draining()) return
    const undecodable = undecodableBatchOf(message)
    if (undecodable !== undefined) {
      pauses.stopAtUndecodableBatch('source', { topic, partition, offset: message.offset }, undecodable, () => pair.source.closed)
      return
    }
    const offset = BigInt(message.offset)
    if (pair.source.hasSeen(offset) || pair.source.window.skipIfSettledBefore(offset)) {
      resolveOffset(message.offset)
      continue
    }
    if (pair.source.isFull()) {
      pauses.pauseUntil(topic, partition, () => pair.source.hasRoom() || pair.source.closed)
      return
    }
    const plan = await deps.planner.planSource(rawRecord(message), { topic, partition, offset }, pair.schemaMisses)
    if (plan.kind === 'later') {
      const resumeAt = deps.now() + plan.delayMs
      pauses.pauseUntil(topic, partition, () => deps.now() >= resumeAt || pair.source.closed)
      return
    }
    if (pair.source.closed) return
    pair.source.accept({ topic, partition, offset }, rawRecord(message), plan)
    resolveOffset(message.offset)
  }
}

/**
 * What eachBatch does with a batch of a retry partition: handover markers to
 * the pair's gate, parked records into its retry lane (their keys blocked in
 * the source lane), until the memory cap, a registry outage or an
 * undecodable batch pauses the partition.
 */
export async function readRetryBatch (deps: BatchReaderDeps, pair: PartitionPair, { batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
  const { topic, partition } = batch
  const { pauses } = deps
  if (pair.retry.closed || deps.draining()) return
  if (!pair.offsetsLoaded) {
    pauses.pauseUntil(topic, partition, () => pair.offsetsLoaded || pair.retry.closed)
    return
  }
  const cap = deps.retryMaxParkedTracked
  const lane = pair.retry
  for (const message of batch.messages) {
    if (!isRunning() || isStale() || pair.retry.closed || deps.draining()) break
    const undecodable = undecodableBatchOf(message)
    if (undecodable !== undefined) {
      // Parked items past this point stay unread: their keys stay blocked,
      // and before the handover is complete the source partition stays gated.
      pauses.stopAtUndecodableBatch('retry', { topic, partition, offset: message.offset }, undecodable, () => pair.retry.closed)
      break
    }
    const offset = BigInt(message.offset)
    lane.readingAt(offset)
    if (lane.hasSeen(offset)) {
      // Read before: now read again for a parked item held without its
      // bytes, or passed over (and, once nothing more is wanted, skipped).
      if (lane.wantsReread(offset)) {
        const plan = await deps.planner.planParked(rawRecord(message), { topic, partition, offset })
        if (plan.kind === 'later') {
          const resumeAt = deps.now() + plan.delayMs
          pauses.pauseUntil(topic, partition, () => deps.now() >= resumeAt || pair.retry.closed)
          break
        }
        lane.reread(offset, plan)
      } else {
        const highest = lane.highestRead as bigint
        if (offset < highest && lane.rereadDone(offset)) {
          lane.readingAt(highest)
          deps.seek(topic, partition, highest + 1n)
          break
        }
      }
      resolveOffset(message.offset)
      continue
    }
    if (lane.window.skipIfSettledBefore(offset)) {
      resolveOffset(message.offset)
      continue
    }
    const marker = readHandoverMarker(message.headers)
    if (marker !== undefined) {
      pair.readMarker(offset, marker)
      resolveOffset(message.offset)
      continue
    }
    // Past RETRY_MAX_PARKED_TRACKED the lane stops reading ahead; parked
    // items wait in Kafka, in order. Not before the handover is complete:
    // the source partition waits for the retry partition to be read.
    if (pair.rebuilt && pair.retry.heldItems >= cap) {
      // A head waiting for its record to be read again resumes it at once.
      pauses.pauseUntil(topic, partition, () => pair.retry.heldItems < cap / 2 || pair.retry.awaitingReread || pair.retry.closed)
      break
    }
    const plan = await deps.planner.planParked(rawRecord(message), { topic, partition, offset })
    if (plan.kind === 'later') {
      const resumeAt = deps.now() + plan.delayMs
      pauses.pauseUntil(topic, partition, () => deps.now() >= resumeAt || pair.retry.closed)
      break
    }
    if (pair.retry.closed) break
    const owner = header(message.headers ?? {}, H.owner)
    if (pair.isLatePark(offset, owner)) {
      deps.metrics.lateParks.inc({ topic: pair.source.topic })
      deps.log.warn({ lane: pair.id, offset: message.offset, owner }, 'a previous owner parked after the handover wait; this key may be delivered out of order')
    }
    const key = pair.retry.accept(offset, plan)
    if (key !== undefined) pair.source.blockFromRetryTopic(key, offset)
    resolveOffset(message.offset)
  }
  pair.checkRebuilt()
  deps.requestPump()
}

function rawRecord (message: KafkaMessage): RawRecord {
  return {
    key: message.key,
    value: message.value,
    headers: message.headers ?? {},
    timestamp: Number(message.timestamp)
  }
}
