import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { Partitioners, type PartitionMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { JavaCompatiblePartitioner, javaPartition, murmur2, toPositive } from '../../../services/events/src/partitioner.js'

function partitions (count: number, leaderless: number[] = []): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionId, leader: leaderless.includes(partitionId) ? -1 : 1, partitionErrorCode: 0, replicas: [1], isr: [1]
  }))
}

describe('murmur2', () => {
  // Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107]
  ])('matches Kafka\'s UtilsTest vector for %j', (input, expected) => {
    expect(murmur2(Buffer.from(input, 'utf8'))).toBe(expected)
  })

  it('agrees with kafkajs\'s Java-compatible partitioner on random keys of every length', () => {
    const theirs = Partitioners.DefaultPartitioner()
    const ours = JavaCompatiblePartitioner()
    for (let i = 0; i < 5000; i++) {
      const key = randomBytes(i % 67)
      const count = 1 + (i % 50)
      const args = { topic: 't', partitionMetadata: partitions(count), message: { key, value: null } }
      expect(ours(args)).toBe(theirs(args))
    }
  })

  it('returns a signed 32-bit integer', () => {
    for (let i = 0; i < 1000; i++) {
      const hash = murmur2(randomBytes(i % 13))
      expect(Number.isInteger(hash)).toBe(true)
      expect(hash).toBeGreaterThanOrEqual(-(2 ** 31))
      expect(hash).toBeLessThan(2 ** 31)
    }
  })
})

describe('javaPartition', () => {
  it('clears the sign bit rather than taking the absolute value', () => {
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(5)).toBe(5)
  })

  it('is toPositive(murmur2(utf8 key)) % numPartitions', () => {
    // -790332482 & 0x7fffffff = 1357151166; 1357151166 % 12 = 6.
    expect(javaPartition('foobar', 12)).toBe(1357151166 % 12)
    expect(javaPartition('foobar', 12)).toBe(6)
    expect(javaPartition(Buffer.from('foobar'), 12)).toBe(6)
    expect(javaPartition('acc-000123', 1)).toBe(0)
  })

  it('disagrees with librdkafka\'s default (consistent_random: CRC32 % partitions) for most accounts: the integrator guide\'s 466 of 500', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `acc-${String(i + 1).padStart(6, '0')}`)
    const moved = keys.filter((key) => crc32(Buffer.from(key)) % 12 !== javaPartition(key, 12))
    expect(moved).toHaveLength(466)
  })

  it('encodes string keys as UTF-8', () => {
    expect(javaPartition('kontø-ß', 97)).toBe(toPositive(murmur2(Buffer.from('kontø-ß', 'utf8'))) % 97)
  })

  it('refuses a non-positive partition count', () => {
    expect(() => javaPartition('a', 0)).toThrow(RangeError)
  })
})

describe('JavaCompatiblePartitioner', () => {
  it('keeps an explicit partition', () => {
    const partitioner = JavaCompatiblePartitioner()
    expect(partitioner({ topic: 't', partitionMetadata: partitions(12), message: { key: 'foobar', value: null, partition: 3 } })).toBe(3)
  })

  it('places keyed records by Java\'s rule over all partitions, leader or not', () => {
    const partitioner = JavaCompatiblePartitioner()
    expect(partitioner({ topic: 't', partitionMetadata: partitions(12, [6]), message: { key: 'foobar', value: null } })).toBe(6)
  })

  it('spreads records without a key over partitions that have a leader', () => {
    const partitioner = JavaCompatiblePartitioner()
    const seen = new Set<number>()
    for (let i = 0; i < 20; i++) {
      seen.add(partitioner({ topic: 't', partitionMetadata: partitions(4, [2]), message: { key: null, value: null } }))
    }
    expect([...seen].sort()).toEqual([0, 1, 3])
  })
})
