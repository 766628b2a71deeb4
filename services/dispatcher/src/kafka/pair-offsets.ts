import type { Admin } from 'kafkajs'
import type { Logger } from 'pino'
import type { PartitionPair } from '../engine/partition-pair.js'

/**
 * Loads what a newly assigned pair needs before it may read: the group's
 * committed offsets (and metadata) of both partitions; the retry partition's
 * end is logged (the handover gate, not this end, decides when the pair
 * opens). Retries until it succeeds or the pair is closed.
 */
export async function loadPairOffsets (admin: Admin, groupId: string, pair: PartitionPair, retryTopic: string, partition: number, log: Logger): Promise<void> {
  const sourceTopic = pair.source.topic
  for (let attempt = 1; !pair.closed; attempt++) {
    try {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(retryTopic),
        admin.fetchOffsets({ groupId, topics: [sourceTopic, retryTopic] })
      ])
      const committedOf = (topic: string): { offset: bigint, metadata: string | null } | undefined => {
        const entry = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)
        if (entry === undefined || BigInt(entry.offset) < 0n) return undefined
        return { offset: BigInt(entry.offset), metadata: entry.metadata }
      }
      const sourceCommit = committedOf(sourceTopic)
      const retryCommit = committedOf(retryTopic)
      pair.loadCommitted(sourceCommit, retryCommit)
      const retryEnd = ends.find((p) => p.partition === partition)
      const end = BigInt(retryEnd?.high ?? '0')
      const start = retryCommit?.offset ?? BigInt(retryEnd?.low ?? '0')
      log.info({ retryStart: start.toString(), retryEnd: end.toString(), sourceCommitted: sourceCommit?.offset.toString(), sourceSettledAbove: pair.source.window.rememberedCount }, 'lane pair assigned')
      return
    } catch (err) {
      log.warn({ err, attempt }, 'cannot read committed offsets; retrying')
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)))
    }
  }
}
