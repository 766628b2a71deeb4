/**
 * Kafka's Java partitioning for keyed records, written out so the mapping is
 * explicit and tested: `toPositive(murmur2(keyBytes)) % numPartitions`, as in
 * `BuiltInPartitioner.partitionForKey` (and the pre-3.3 DefaultPartitioner).
 * Java, librdkafka's `murmur2_random` and this producer therefore put an
 * account on the same partition.
 *
 * https://github.com/apache/kafka/blob/trunk/clients/src/main/java/org/apache/kafka/common/utils/Utils.java (murmur2, toPositive)
 * https://github.com/apache/kafka/blob/trunk/clients/src/main/java/org/apache/kafka/clients/producer/internals/BuiltInPartitioner.java
 */
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs'

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/**
 * Java's `Utils.murmur2`: 32-bit MurmurHash2 with Kafka's seed, returned as a
 * signed 32-bit integer like Java's `int`. `Math.imul` and `>>>` give Java's
 * wrapping multiply and unsigned shift.
 */
export function murmur2 (data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = (data[i4] as number) | ((data[i4 + 1] as number) << 8) | ((data[i4 + 2] as number) << 16) | ((data[i4 + 3] as number) << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  // Java's switch falls through from case 3 to case 1.
  const tail = length & ~3
  const remainder = length & 3
  if (remainder === 3) h ^= (data[tail + 2] as number) << 16
  if (remainder >= 2) h ^= (data[tail + 1] as number) << 8
  if (remainder >= 1) {
    h ^= data[tail] as number
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Java's `Utils.toPositive`: clears the sign bit (not `Math.abs`). */
export function toPositive (n: number): number {
  return n & 0x7fffffff
}

/** Key bytes as Java's StringSerializer writes them (UTF-8). */
export function keyBytes (key: Buffer | string): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key
}

/** The partition Java's producer picks for a keyed record. */
export function javaPartition (key: Buffer | string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`)
  return toPositive(murmur2(keyBytes(key))) % numPartitions
}

/**
 * kafkajs partitioner with Java's keyed placement. An explicit partition
 * wins; records without a key go round-robin over partitions with a leader
 * (the banking producer always sets a key).
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>()
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== undefined && message.partition !== null) return message.partition
    if (message.key !== undefined && message.key !== null) return javaPartition(message.key, partitionMetadata.length)
    const available = partitionMetadata.filter((partition) => partition.leader >= 0)
    const pool = available.length > 0 ? available : partitionMetadata
    const next = (counters.get(topic) ?? 0) + 1
    counters.set(topic, next)
    return (pool[toPositive(next) % pool.length] as { partitionId: number }).partitionId
  }
}
