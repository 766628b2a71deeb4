// Co-partitioned assignment (DESIGN §4 "Co-partitioned retry topic"): source
// partition T:p and its retry partition T.retry:p must live in the same
// process, because the blocked-key state of partition p is shared by the
// source lane and the retry lane and is never coordinated across instances.
import { AssignerProtocol } from 'kafkajs'
import type { PartitionAssigner } from 'kafkajs'

/** The default suffix that names a source topic's retry topic. */
export const DEFAULT_RETRY_SUFFIX = '.retry'

/** Partitions per topic for one member. */
export type TopicPartitions = Record<string, number[]>

// One unit of assignment: partition p of every topic in a co-partition group.
interface Unit {
  readonly partition: number
  readonly topics: readonly string[]
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

// Groups each topic with its retry partner(s): T, T.retry, T.retry.retry, …
// all share a root (the shortest name in the chain that is itself present).
function coPartitionGroups (topics: readonly string[], retrySuffix: string): Map<string, string[]> {
  const present = new Set(topics)
  const groups = new Map<string, string[]>()
  for (const topic of [...present].sort(byCodeUnit)) {
    let root = topic
    while (root.endsWith(retrySuffix) && present.has(root.slice(0, -retrySuffix.length))) {
      root = root.slice(0, -retrySuffix.length)
    }
    const group = groups.get(root)
    if (group === undefined) groups.set(root, [topic])
    else group.push(topic)
  }
  return groups
}

function assignmentUnits (partitionsByTopic: Readonly<Record<string, readonly number[]>>, retrySuffix: string): Unit[] {
  const units: Unit[] = []
  const groups = coPartitionGroups(Object.keys(partitionsByTopic), retrySuffix)
  for (const root of [...groups.keys()].sort(byCodeUnit)) {
    const members = groups.get(root) as string[]
    const topicsByPartition = new Map<number, string[]>()
    for (const topic of members) {
      for (const partition of new Set(partitionsByTopic[topic])) {
        const list = topicsByPartition.get(partition)
        if (list === undefined) topicsByPartition.set(partition, [topic])
        else list.push(topic)
      }
    }
    // A partition only one topic of the group has (mismatched partition
    // counts) is still a unit of its own, so no partition goes unconsumed.
    for (const partition of [...topicsByPartition.keys()].sort((a, b) => a - b)) {
      units.push({ partition, topics: topicsByPartition.get(partition) as string[] })
    }
  }
  return units
}

/**
 * Assigns partitions to members so that, for every topic T whose retry topic
 * `T + retrySuffix` is also in `partitionsByTopic`, partition p of both goes
 * to the same member.
 *
 * A unit is (co-partition group, partition). Units are ordered by group and
 * partition and dealt round-robin over the sorted member ids, so members'
 * unit counts differ by at most one and the result depends only on the
 * inputs' contents, not their order. When `subscriptions` is given (member id
 * → subscribed topics, e.g. during a rolling deploy that changes the topic
 * list), a unit goes only to members subscribed to all of its topics, the
 * least loaded of them at that point (greedy: balance within one unit is then
 * not guaranteed); a unit no member can take whole is split into per-topic
 * units, and a topic nobody subscribes to is left unassigned.
 *
 * Every member appears in the result, possibly with no partitions.
 */
export function assignCoPartitioned (
  memberIds: readonly string[],
  partitionsByTopic: Readonly<Record<string, readonly number[]>>,
  retrySuffix: string = DEFAULT_RETRY_SUFFIX,
  subscriptions?: Readonly<Record<string, readonly string[]>>
): Record<string, TopicPartitions> {
  if (retrySuffix === '') throw new TypeError('retry suffix must not be empty')
  const members = [...new Set(memberIds)].sort(byCodeUnit)
  const result: Record<string, TopicPartitions> = Object.create(null)
  for (const member of members) result[member] = Object.create(null)
  if (members.length === 0) return result

  const subscribed = subscriptions === undefined
    ? undefined
    : new Map(members.map((member) => [member, new Set(subscriptions[member] ?? [])]))
  const load = new Map(members.map((member) => [member, 0]))

  const give = (member: string, unit: Unit): void => {
    const target = result[member] as TopicPartitions
    for (const topic of unit.topics) (target[topic] ??= []).push(unit.partition)
    load.set(member, (load.get(member) as number) + 1)
  }

  // Least loaded eligible member, ties to the lowest id: with everyone
  // eligible this is exactly round-robin over the sorted members.
  const pick = (topics: readonly string[]): string | undefined => {
    let best: string | undefined
    let bestLoad = Infinity
    for (const member of members) {
      if (subscribed !== undefined) {
        const set = subscribed.get(member) as Set<string>
        if (!topics.every((topic) => set.has(topic))) continue
      }
      const memberLoad = load.get(member) as number
      if (memberLoad < bestLoad) {
        best = member
        bestLoad = memberLoad
      }
    }
    return best
  }

  for (const unit of assignmentUnits(partitionsByTopic, retrySuffix)) {
    const member = pick(unit.topics)
    if (member !== undefined) {
      give(member, unit)
      continue
    }
    for (const topic of unit.topics) {
      const single = { partition: unit.partition, topics: [topic] }
      const fallback = pick(single.topics)
      if (fallback !== undefined) give(fallback, single)
    }
  }

  for (const member of members) {
    for (const partitions of Object.values(result[member] as TopicPartitions)) partitions.sort((a, b) => a - b)
  }
  return result
}

/** Options of {@link createCoPartitionAssigner}. */
export interface CoPartitionAssignerOptions {
  /**
   * Suffix that names a source topic's retry topic.
   * @defaultValue {@link DEFAULT_RETRY_SUFFIX}
   */
  retrySuffix?: string
}

/** Protocol name the group agrees on; every member must offer it. */
export const CO_PARTITION_ASSIGNER_NAME = 'CoPartitionAssigner'
const VERSION = 0

/**
 * A kafkajs partition assigner that keeps `T:p` and `T.retry:p` on one member
 * (see {@link assignCoPartitioned}). Pass it as
 * `partitionAssigners: [createCoPartitionAssigner()]`.
 */
export function createCoPartitionAssigner (options: CoPartitionAssignerOptions = {}): PartitionAssigner {
  const retrySuffix = options.retrySuffix ?? DEFAULT_RETRY_SUFFIX
  return ({ cluster }) => ({
    name: CO_PARTITION_ASSIGNER_NAME,
    version: VERSION,

    async assign ({ members, topics }) {
      // kafkajs passes the leader's subscription as `topics`; other members
      // may differ during a rolling deploy, and kafkajs silently drops
      // assigned topics a member did not subscribe to, so respect each
      // member's own list.
      const subscriptions: Record<string, string[]> = Object.create(null)
      for (const { memberId, memberMetadata } of members) {
        subscriptions[memberId] = decodeTopics(memberMetadata) ?? topics
      }
      const partitionsByTopic: Record<string, number[]> = Object.create(null)
      for (const topic of new Set(topics)) {
        partitionsByTopic[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)
      }
      const assignment = assignCoPartitioned(members.map((m) => m.memberId), partitionsByTopic, retrySuffix, subscriptions)
      return Object.entries(assignment).map(([memberId, topicPartitions]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: topicPartitions,
          userData: Buffer.alloc(0)
        })
      }))
    },

    protocol ({ topics }) {
      return {
        name: CO_PARTITION_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: Buffer.alloc(0) })
      }
    }
  })
}

function decodeTopics (metadata: Buffer): string[] | undefined {
  try {
    return AssignerProtocol.MemberMetadata.decode(metadata)?.topics ?? undefined
  } catch {
    // Unreadable metadata from a foreign client: assume the leader's topics.
    return undefined
  }
}

/** The assigner with the default `.retry` suffix. */
export const CoPartitionAssigner: PartitionAssigner = createCoPartitionAssigner()
