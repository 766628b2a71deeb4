import { AssignerProtocol } from 'kafkajs'
import type { Cluster, GroupMemberAssignment, PartitionMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { seededRandom as prng } from '../../../support/random.js'
import {
  assignCoPartitioned,
  CO_PARTITION_ASSIGNER_NAME,
  CoPartitionAssigner,
  createCoPartitionAssigner
} from '../../../../services/dispatcher/src/kafka/assigner.js'
import type { TopicPartitions } from '../../../../services/dispatcher/src/kafka/assigner.js'

type Assignment = Record<string, TopicPartitions>


const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

// Who owns topic:partition; fails the test if nobody or several members do.
function owners (assignment: Assignment): Map<string, string> {
  const owner = new Map<string, string>()
  for (const [member, topics] of Object.entries(assignment)) {
    for (const [topic, partitions] of Object.entries(topics)) {
      for (const p of partitions) {
        const tp = `${topic}:${p}`
        if (owner.has(tp)) throw new Error(`${tp} assigned to ${owner.get(tp)} and ${member}`)
        owner.set(tp, member)
      }
    }
  }
  return owner
}

// Units a member holds: distinct (group root, partition) pairs.
function unitCounts (assignment: Assignment, suffix = '.retry'): number[] {
  return Object.values(assignment).map((topics) => {
    const units = new Set<string>()
    for (const [topic, partitions] of Object.entries(topics)) {
      let root = topic
      while (root.endsWith(suffix) && root.slice(0, -suffix.length) in topics) root = root.slice(0, -suffix.length)
      for (const p of partitions) units.add(`${root}:${p}`)
    }
    return units.size
  })
}

const spread = (counts: number[]): number => Math.max(...counts) - Math.min(...counts)

describe('assignCoPartitioned', () => {
  it('deals (group, partition) units round-robin over sorted members', () => {
    expect(assignCoPartitioned(['m2', 'm1'], { A: range(3), 'A.retry': range(3) })).toEqual({
      m1: { A: [0, 2], 'A.retry': [0, 2] },
      m2: { A: [1], 'A.retry': [1] }
    })
  })

  it('co-locates every source partition with its retry partition', () => {
    const topics = {
      'banking.transactions.v1': range(12),
      'banking.transactions.v1.retry': range(12),
      'banking.accounts.v1': range(6),
      'banking.accounts.v1.retry': range(6),
      'banking.fraud-alerts.v1': range(3),
      'banking.fraud-alerts.v1.retry': range(3)
    }
    for (const memberCount of [1, 2, 3, 4, 5, 7, 21, 30]) {
      const members = range(memberCount).map((i) => `member-${i}`)
      const assignment = assignCoPartitioned(members, topics)
      const owner = owners(assignment)
      expect(owner.size).toBe(42)
      for (const source of ['banking.transactions.v1', 'banking.accounts.v1', 'banking.fraud-alerts.v1']) {
        for (const p of topics[source as keyof typeof topics]) {
          expect(owner.get(`${source}.retry:${p}`)).toBe(owner.get(`${source}:${p}`))
        }
      }
      expect(spread(unitCounts(assignment))).toBeLessThanOrEqual(1)
    }
  })

  it('continues the round across groups so small topics do not pile onto the first member', () => {
    const assignment = assignCoPartitioned(['a', 'b', 'c'], { X: [0], 'X.retry': [0], Y: [0], 'Y.retry': [0], Z: [0], 'Z.retry': [0] })
    expect(unitCounts(assignment)).toEqual([1, 1, 1])
  })

  it('is deterministic regardless of input order', () => {
    const topics = { A: range(5), 'A.retry': range(5), B: range(4) }
    const reordered = { B: [3, 1, 2, 0], 'A.retry': [4, 3, 2, 1, 0], A: [2, 0, 4, 1, 3] }
    const first = assignCoPartitioned(['c', 'a', 'b'], topics)
    expect(assignCoPartitioned(['b', 'c', 'a'], reordered)).toEqual(first)
    expect(assignCoPartitioned(['a', 'b', 'c'], topics)).toEqual(first)
  })

  it('returns sorted partition lists', () => {
    const assignment = assignCoPartitioned(['m'], { A: [5, 1, 3], 'A.retry': [3, 5, 1] })
    expect(assignment).toEqual({ m: { A: [1, 3, 5], 'A.retry': [1, 3, 5] } })
  })

  it('gives a single member everything', () => {
    expect(assignCoPartitioned(['only'], { A: range(2), 'A.retry': range(2), B: [0] })).toEqual({
      only: { A: [0, 1], 'A.retry': [0, 1], B: [0] }
    })
  })

  it('leaves extra members empty when there are more members than units', () => {
    const assignment = assignCoPartitioned(['m1', 'm2', 'm3', 'm4'], { A: range(2), 'A.retry': range(2) })
    expect(assignment).toEqual({
      m1: { A: [0], 'A.retry': [0] },
      m2: { A: [1], 'A.retry': [1] },
      m3: {},
      m4: {}
    })
  })

  it('assigns a topic without a retry partner normally', () => {
    const assignment = assignCoPartitioned(['m1', 'm2'], { A: range(4) })
    expect(assignment).toEqual({ m1: { A: [0, 2] }, m2: { A: [1, 3] } })
  })

  it('treats a retry topic whose source is absent as an ordinary topic', () => {
    const assignment = assignCoPartitioned(['m1', 'm2'], { 'A.retry': range(2), B: range(2) })
    expect(unitCounts(assignment)).toEqual([2, 2])
    expect(owners(assignment).size).toBe(4)
  })

  it('co-locates the common partitions of mismatched topics and still assigns the extras', () => {
    const assignment = assignCoPartitioned(['m1', 'm2', 'm3'], { A: range(6), 'A.retry': range(3) })
    const owner = owners(assignment)
    expect(owner.size).toBe(9)
    for (const p of range(3)) expect(owner.get(`A.retry:${p}`)).toBe(owner.get(`A:${p}`))
    for (const p of [3, 4, 5]) expect(owner.has(`A:${p}`)).toBe(true)
    expect(spread(unitCounts(assignment))).toBeLessThanOrEqual(1)
  })

  it('assigns retry partitions beyond the source partition count too', () => {
    const owner = owners(assignCoPartitioned(['m1', 'm2'], { A: range(2), 'A.retry': range(4) }))
    expect([...owner.keys()].sort()).toEqual(['A.retry:0', 'A.retry:1', 'A.retry:2', 'A.retry:3', 'A:0', 'A:1'])
    expect(owner.get('A.retry:1')).toBe(owner.get('A:1'))
  })

  it('co-locates a chain of retry topics', () => {
    const owner = owners(assignCoPartitioned(['m1', 'm2'], { T: range(2), 'T.retry': range(2), 'T.retry.retry': range(2) }))
    for (const p of range(2)) {
      expect(owner.get(`T.retry:${p}`)).toBe(owner.get(`T:${p}`))
      expect(owner.get(`T.retry.retry:${p}`)).toBe(owner.get(`T:${p}`))
    }
    expect(owner.get('T:0')).not.toBe(owner.get('T:1'))
  })

  it('uses a custom suffix', () => {
    const owner = owners(assignCoPartitioned(['m1', 'm2'], { A: range(2), 'A-retry': range(2), 'A.retry': range(2) }, '-retry'))
    expect(owner.get('A-retry:0')).toBe(owner.get('A:0'))
    expect(owner.get('A-retry:1')).toBe(owner.get('A:1'))
    // With this suffix "A.retry" is an unrelated topic, dealt on its own.
    expect(owner.get('A.retry:0')).toBe('m1')
    expect(owner.get('A.retry:1')).toBe('m2')
  })

  it('rejects an empty suffix', () => {
    expect(() => assignCoPartitioned(['m'], { A: [0] }, '')).toThrow(TypeError)
  })

  it('returns nothing without members', () => {
    expect(assignCoPartitioned([], { A: [0] })).toEqual({})
  })

  it('ignores duplicate member ids and partitions', () => {
    expect(assignCoPartitioned(['m', 'm'], { A: [0, 0, 1] })).toEqual({ m: { A: [0, 1] } })
  })

  it('omits topics without partitions', () => {
    expect(assignCoPartitioned(['m1', 'm2'], { A: [], B: [0] })).toEqual({ m1: { B: [0] }, m2: {} })
  })

  it('handles a topic named __proto__', () => {
    const assignment = assignCoPartitioned(['m'], { ['__proto__']: [0], '__proto__.retry': [0] })
    expect(Object.keys(assignment.m as TopicPartitions).sort()).toEqual(['__proto__', '__proto__.retry'])
    expect((assignment.m as TopicPartitions)['__proto__']).toEqual([0])
  })

  describe('with per-member subscriptions', () => {
    it('gives a unit only to members subscribed to all of its topics', () => {
      const assignment = assignCoPartitioned(
        ['old', 'new'],
        { A: range(4), 'A.retry': range(4) },
        '.retry',
        { old: ['A'], new: ['A', 'A.retry'] }
      )
      expect(assignment).toEqual({ new: { A: range(4), 'A.retry': range(4) }, old: {} })
    })

    it('gives each unit to the least loaded eligible member', () => {
      const assignment = assignCoPartitioned(
        ['m1', 'm2', 'm3'],
        { A: range(3), B: range(3) },
        '.retry',
        { m1: ['A', 'B'], m2: ['A'], m3: ['B'] }
      )
      // A: m1, m2, m1 (tie → lowest id); B: m3 (0 units), m3 (1 < 2), then the m1/m3 tie → m1.
      expect(assignment).toEqual({ m1: { A: [0, 2], B: [2] }, m2: { A: [1] }, m3: { B: [0, 1] } })
    })

    it('splits a group no member can take whole', () => {
      const assignment = assignCoPartitioned(
        ['m1', 'm2'],
        { A: range(2), 'A.retry': range(2) },
        '.retry',
        { m1: ['A'], m2: ['A.retry'] }
      )
      expect(assignment).toEqual({ m1: { A: [0, 1] }, m2: { 'A.retry': [0, 1] } })
    })

    it('leaves a topic nobody subscribes to unassigned', () => {
      const assignment = assignCoPartitioned(['m1'], { A: [0], B: [0] }, '.retry', { m1: ['A'] })
      expect(assignment).toEqual({ m1: { A: [0] } })
    })

    it('treats a member missing from the map as subscribed to nothing', () => {
      const assignment = assignCoPartitioned(['m1', 'm2'], { A: range(2) }, '.retry', { m1: ['A'] })
      expect(assignment).toEqual({ m1: { A: [0, 1] }, m2: {} })
    })
  })

  it('keeps coverage, co-location and balance on random layouts', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed)
      const topics: Record<string, number[]> = {}
      const groupCount = 1 + Math.floor(random() * 4)
      for (let g = 0; g < groupCount; g++) {
        const count = 1 + Math.floor(random() * 16)
        topics[`t${g}`] = range(count)
        if (random() < 0.8) topics[`t${g}.retry`] = range(random() < 0.85 ? count : 1 + Math.floor(random() * 16))
      }
      const members = range(1 + Math.floor(random() * 10)).map((i) => `m-${(i * 7919) % 101}`)
      const assignment = assignCoPartitioned(members, topics)
      const owner = owners(assignment)
      const total = Object.values(topics).reduce((sum, ps) => sum + ps.length, 0)
      expect(owner.size, `seed ${seed}`).toBe(total)
      for (const [topic, partitions] of Object.entries(topics)) {
        if (!topic.endsWith('.retry')) continue
        const source = topic.slice(0, -'.retry'.length)
        for (const p of partitions) {
          if (owner.has(`${source}:${p}`)) expect(owner.get(`${topic}:${p}`), `seed ${seed}`).toBe(owner.get(`${source}:${p}`))
        }
      }
      expect(spread(unitCounts(assignment)), `seed ${seed}`).toBeLessThanOrEqual(1)
      expect(assignCoPartitioned([...members].reverse(), topics)).toEqual(assignment)
    }
  })
})

describe('CoPartitionAssigner (kafkajs wrapper)', () => {
  const partitionsOf: Record<string, number> = { A: 4, 'A.retry': 4, B: 2 }
  const cluster = {
    findTopicPartitionMetadata: (topic: string): PartitionMetadata[] =>
      range(partitionsOf[topic] ?? 0).map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }))
  } as unknown as Cluster
  const assigner = CoPartitionAssigner({ cluster, groupId: 'g', logger: undefined as never })
  const metadata = (topics: string[]): Buffer => AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) })
  const decode = (result: GroupMemberAssignment[]): Assignment =>
    Object.fromEntries(result.map(({ memberId, memberAssignment }) =>
      [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment ?? {}]))

  it('announces its name and the subscribed topics', () => {
    expect(assigner.name).toBe(CO_PARTITION_ASSIGNER_NAME)
    expect(assigner.name).toBe('CoPartitionAssigner')
    const state = assigner.protocol({ topics: ['A', 'A.retry'] })
    expect(state.name).toBe('CoPartitionAssigner')
    expect(AssignerProtocol.MemberMetadata.decode(state.metadata)?.topics).toEqual(['A', 'A.retry'])
  })

  it('assigns from cluster metadata, co-located and encoded for every member', async () => {
    const topics = ['A', 'A.retry', 'B']
    const result = await assigner.assign({
      topics,
      members: ['m3', 'm1', 'm2'].map((memberId) => ({ memberId, memberMetadata: metadata(topics) }))
    })
    expect(result.map((r) => r.memberId).sort()).toEqual(['m1', 'm2', 'm3'])
    const assignment = decode(result)
    expect(assignment).toEqual(assignCoPartitioned(['m1', 'm2', 'm3'], { A: range(4), 'A.retry': range(4), B: range(2) }))
    const owner = owners(assignment)
    expect(owner.size).toBe(10)
    for (const p of range(4)) expect(owner.get(`A.retry:${p}`)).toBe(owner.get(`A:${p}`))
  })

  it('respects a member that subscribes to fewer topics than the leader', async () => {
    const result = await assigner.assign({
      topics: ['A', 'A.retry', 'B'],
      members: [
        { memberId: 'leader', memberMetadata: metadata(['A', 'A.retry', 'B']) },
        { memberId: 'old', memberMetadata: metadata(['B']) }
      ]
    })
    const assignment = decode(result)
    expect(assignment.old).toEqual({ B: [0, 1] })
    expect(assignment.leader).toEqual({ A: range(4), 'A.retry': range(4) })
  })

  it('assumes the leader\'s topics for unreadable member metadata', async () => {
    const result = await assigner.assign({
      topics: ['B'],
      members: [
        { memberId: 'm1', memberMetadata: Buffer.alloc(0) },
        { memberId: 'm2', memberMetadata: metadata(['B']) }
      ]
    })
    expect(decode(result)).toEqual({ m1: { B: [0] }, m2: { B: [1] } })
  })

  it('honours a custom retry suffix', async () => {
    const custom = createCoPartitionAssigner({ retrySuffix: '-r' })({
      cluster: { findTopicPartitionMetadata: (topic: string) => cluster.findTopicPartitionMetadata(topic === 'A-r' ? 'A' : topic) } as unknown as Cluster,
      groupId: 'g',
      logger: undefined as never
    })
    const topics = ['A', 'A-r']
    const result = await custom.assign({ topics, members: ['x', 'y'].map((memberId) => ({ memberId, memberMetadata: metadata(topics) })) })
    expect(decode(result)).toEqual({ x: { A: [0, 2], 'A-r': [0, 2] }, y: { A: [1, 3], 'A-r': [1, 3] } })
  })
})
