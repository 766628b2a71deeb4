import type { CompressionTypes, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import type { DeliveryState, RawRecord, RecordCoordinates } from '../engine/delivery-task.js'
import { toDeadLetterRecord, type ParkedState } from '../engine/parked-record.js'
import { encodeLifecycle, readLineage, settledLifecycle, type Lineage, type RedriveOutcome } from '../dead-letters/lifecycle.js'
import type { Metrics } from '../metrics.js'
import { OrderedSender } from './ordered-sender.js'

export interface SideTopicsOptions {
  producer: Producer
  compression: CompressionTypes
  deadLetterTopic: string
  /** DEAD_LETTER_STATE_TOPIC: what became of redriven letters. */
  deadLetterStateTopic: string
  endpointEventsTopic: string
  metrics: Pick<Metrics, 'deadLetters'>
  log: Logger
  now: () => number
}

export type EndpointEventType = 'endpoint.disabled' | 'endpoint.enabled'

/**
 * What the dispatcher writes besides parked records: dead letters
 * (DEAD_LETTER_TOPIC, keyed like their source, so one key's letters keep
 * their order) and operational endpoint events (ENDPOINT_EVENTS_TOPIC, one
 * partition, in order). Both retry a failed write until it succeeds or they
 * close (C1: a dead letter is what settles its record).
 */
export class SideTopics {
  readonly #deadLetters: OrderedSender
  readonly #endpointEvents: OrderedSender
  readonly #letterStates: OrderedSender
  readonly #o: SideTopicsOptions

  constructor (o: SideTopicsOptions) {
    this.#o = o
    this.#deadLetters = new OrderedSender({
      producer: o.producer,
      compression: o.compression,
      topic: o.deadLetterTopic,
      onSendError: (err, attempt) => o.log.warn({ err, attempt }, 'dead-letter write failed; retrying')
    })
    this.#endpointEvents = new OrderedSender({
      producer: o.producer,
      compression: o.compression,
      topic: o.endpointEventsTopic,
      partition: 0,
      onSendError: (err, attempt) => o.log.warn({ err, attempt }, 'endpoint event write failed; retrying')
    })
    this.#letterStates = new OrderedSender({
      producer: o.producer,
      compression: o.compression,
      topic: o.deadLetterStateTopic,
      partition: 0,
      onSendError: (err, attempt) => o.log.warn({ err, attempt }, 'dead-letter state write failed; retrying')
    })
  }

  /** Dead letters handed in and not yet acknowledged. */
  get pendingDeadLetters (): number {
    return this.#deadLetters.pending
  }

  /** Resolves once the dead letter is durable; rejects only when closed. */
  async deadLetter (source: RecordCoordinates, record: RawRecord, reason: string, delivery?: DeliveryState, detail?: string): Promise<void> {
    const state: ParkedState = { source, record, attempts: delivery?.attempts ?? 0 }
    if (delivery !== undefined) {
      if (delivery.subscriptionId !== undefined) state.subscriptionId = delivery.subscriptionId
      if (delivery.firstFailureAt !== undefined) state.firstFailureAt = delivery.firstFailureAt
      if (delivery.lastStatus !== undefined) state.lastStatus = delivery.lastStatus
      if (delivery.lastError !== undefined) state.lastError = delivery.lastError
    }
    await this.#deadLetters.send(toDeadLetterRecord(state, reason, this.#o.now(), detail))
    this.#o.metrics.deadLetters.inc({ reason })
    // A redriven delivery dead again: its predecessor's lifecycle ends here
    // (the new letter names it in whd-redrive-of).
    const lineage = readLineage(record.headers)
    if (lineage !== undefined) void this.redriveSettled(lineage, { kind: 'dead-again', reason })
    this.#o.log.info({ reason, topic: source.topic, partition: source.partition, offset: source.offset.toString(), subscriptionId: delivery?.subscriptionId }, 'dead-lettered')
  }

  /**
   * An operational event (key = subscription id), so the platform can tell
   * the tenant its endpoint was disabled or enabled. Never rejects: the state
   * change itself is on the subscriptions topic.
   */
  async endpointEvent (type: EndpointEventType, subscription: { id: string, tenantId: string }, reason: string): Promise<void> {
    const event = { type, subscriptionId: subscription.id, tenantId: subscription.tenantId, reason, at: new Date(this.#o.now()).toISOString() }
    try {
      await this.#endpointEvents.send({ key: Buffer.from(subscription.id), value: Buffer.from(JSON.stringify(event)), headers: {} })
    } catch (err) {
      // Only a closed sender rejects (shutdown).
      this.#o.log.warn({ err, type, subscriptionId: subscription.id }, 'endpoint event not written')
    }
  }

  /**
   * Records what became of a redriven letter on the state topic. Never
   * rejects: the delivery itself is settled either way, and the letter then
   * stays listed as `redriven`.
   */
  async redriveSettled (lineage: Lineage, outcome: RedriveOutcome): Promise<void> {
    try {
      await this.#letterStates.send({ ...encodeLifecycle(lineage.deadLetterId, settledLifecycle(lineage, outcome, this.#o.now())), headers: {} })
    } catch (err) {
      this.#o.log.warn({ err, deadLetterId: lineage.deadLetterId, outcome: outcome.kind }, 'dead-letter state not written')
    }
  }

  close (): void {
    this.#deadLetters.close()
    this.#endpointEvents.close()
    this.#letterStates.close()
  }
}
