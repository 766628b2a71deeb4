import type { DeliveryTask } from './delivery-task.js'
import { unpackTask, type PackedRef } from './parked-pack.js'

/** A parked delivery loaded from `T.retry:p`. */
export interface RetryItem extends DeliveryTask {
  /** Its offset on the retry topic: where it was read, or where it was moved to. */
  retryOffset: bigint
}

/** What many entries share: one object per subscription and source partition, not one per entry. */
export interface EntryOrigin {
  readonly subscriptionId: string
  readonly sourceTopic: string
  readonly sourcePartition: number
}

/**
 * A parked delivery as a retry lane holds it, in one of three forms. Only its
 * key's head needs its task; an entry behind the head keeps the task packed
 * into a shared slab (parked-pack.ts) and is unpacked when it becomes the
 * head. Past the lane's budget of entries with bytes
 * (RETRY_MAX_PARKED_IN_MEMORY), an entry keeps neither: only where it lies
 * on the retry partition, from where it is read again when it becomes its
 * key's head.
 *
 * A lane may hold a million of these behind a down endpoint (issue 14), so
 * an entry is five fields, about 64 bytes of heap: its offsets are numbers
 * (a small one sits in the field; a bigint is an object of 24 bytes of its
 * own), exact below 2^53, which no Kafka log reaches; what entries share
 * (subscription, source topic and partition) is one {@link EntryOrigin}.
 */
export class HeldEntry {
  /** Its offset on the retry topic: where it was read, or where it was moved to. */
  retryAt: number
  /** Its offset on the source partition: the order of its key's entries. */
  readonly sourceAt: number
  readonly origin: EntryOrigin
  /** The delivery, while the entry is its key's head (or was put in front of one). */
  task: RetryItem | undefined = undefined
  /** The delivery packed, while the entry waits behind its key's head. */
  packed: PackedRef | undefined = undefined

  constructor (retryOffset: bigint, sourceOffset: bigint, origin: EntryOrigin) {
    this.retryAt = Number(retryOffset)
    this.sourceAt = Number(sourceOffset)
    this.origin = origin
  }

  get retryOffset (): bigint {
    return BigInt(this.retryAt)
  }

  get sourceOffset (): bigint {
    return BigInt(this.sourceAt)
  }

  get subscriptionId (): string {
    return this.origin.subscriptionId
  }

  get hasBytes (): boolean {
    return this.task !== undefined || this.packed !== undefined
  }

  /** Read back (or moved) at `retryOffset`: the item answers for that offset now. */
  movedTo (retryOffset: bigint): void {
    this.retryAt = Number(retryOffset)
    if (this.task !== undefined) this.task.retryOffset = retryOffset
  }

  /** A copy of the delivery from its packed bytes (the entry keeps them). */
  unpacked (): DeliveryTask {
    const { slab, at, length } = this.packed as PackedRef
    const { subscriptionId, sourceTopic, sourcePartition } = this.origin
    return unpackTask(slab.subarray(at, at + length), subscriptionId, { topic: sourceTopic, partition: sourcePartition, offset: this.sourceOffset })
  }
}
