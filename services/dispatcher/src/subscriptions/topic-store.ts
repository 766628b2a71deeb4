// The subscription store backed by the compacted topic webhooks.subscriptions
// (DESIGN §6): the topic is the source of truth, every instance materialises
// it in memory and applies changes live, its own writes included.
import { randomUUID } from 'node:crypto'
import { retryRetriable } from '../retriable.js'
import type { Admin, CompressionTypes, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs'
import { JavaCompatiblePartitioner, undecodableBatchOf } from '../../../events/src/index.js'
import { SecretKeyError, SubscriptionRecordIntegrityError, SubscriptionSourceError, SubscriptionStoreUnavailableError, TopicLayoutError, UndecodableBatchError } from '../errors.js'
import type { RecordRefusalReason } from '../metrics.js'
import type { SecretCipher } from './crypto.js'
import { MaterializedSubscriptionStore, type SubscriptionStoreOptions } from './memory-store.js'
import { decodeSubscriptionRecord, encodeSubscriptionRecord, encodeTombstone, quarantinedState, type StoredSubscription } from './record.js'

/**
 * Why the store refused a record, from the error it reported (by code), or
 * undefined for an error that is not about one record.
 *
 * - `mac-mismatch`: refused; the endpoint keeps its previous state.
 * - `unsigned` (no MAC, and SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS unset) and
 *   `undecryptable` (a key its MAC or a secret names is not configured, or a
 *   secret does not decrypt): the endpoint is quarantined.
 * - `malformed`: skipped; the endpoint keeps its previous state.
 */
export function recordRefusalReason (err: unknown): RecordRefusalReason | undefined {
  const { code, reason } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown, reason?: unknown }
  if (code === SubscriptionRecordIntegrityError.code) return reason === 'unsigned' ? 'unsigned' : 'mac-mismatch'
  if (code === SecretKeyError.code) return 'undecryptable'
  if (code === SubscriptionSourceError.code) return 'malformed'
  return undefined
}

export const DEFAULT_SUBSCRIPTIONS_TOPIC = 'webhooks.subscriptions'

// Written only when catching up stalls (see #watchCatchUp). Subscription ids
// start with a letter or digit, so no subscription can have this key.
const SYNC_MARKER_KEY = '__whd.sync__'

// kafkajs's ConfigResourceTypes.TOPIC. The enum is not a named export Node's
// ESM loader can see in the CommonJS kafkajs, so it is spelt out here.
const TOPIC_RESOURCE = 2

export interface TopicSubscriptionStoreOptions extends SubscriptionStoreOptions {
  kafka: Kafka
  /** Encrypts secrets and mTLS keys in records, and decrypts them. */
  cipher: SecretCipher
  /** @defaultValue `webhooks.subscriptions` */
  topic?: string
  /** Partitions, used only when the store creates the topic. @defaultValue 1 */
  partitions?: number
  /** Replication factor, used only when the store creates the topic. @defaultValue -1 (the broker's default) */
  replicationFactor?: number
  /** Codec of the records it writes (KAFKA_COMPRESSION); any codec is read. @defaultValue none */
  compression?: CompressionTypes
  /** Each instance reads with a consumer group of its own, `<prefix>-<uuid>`; nothing is committed. @defaultValue `webhook-dispatcher-subscriptions` */
  groupIdPrefix?: string
  /** How long a write waits to be read back by this instance before it rejects (it stays written). @defaultValue 30000 */
  writeTimeoutMs?: number
  /**
   * How long catching up at start may make no progress before the store
   * writes a marker record to prove it has read everything (compaction can
   * remove the last records of a partition, leaving nothing to read up to
   * the end offset). @defaultValue 5000
   */
  catchUpStallMs?: number
  /**
   * Accept records without a MAC (written by versions before records were
   * authenticated) and rewrite each, signed, once `start()` has caught up:
   * the one-off migration SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS. Unset, such
   * records quarantine their endpoint. @defaultValue false
   */
  acceptUnsignedRecords?: boolean
}

type State = 'new' | 'starting' | 'running' | 'closing' | 'closed'

interface Waiter {
  partition: number
  offset: bigint
  resolve: () => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/**
 * A {@link SubscriptionStore} over a compacted topic: key = subscription id,
 * value = the record of record.ts, tombstone = deleted.
 *
 * `start()` creates the topic if missing (`cleanup.policy=compact`), captures
 * its end offsets, and resolves once everything up to them is applied, so the
 * dispatcher consumes only with the full view; after that it keeps applying
 * changes live and calls the `onChange` listeners. Each instance reads the
 * whole topic with a consumer group of its own and commits nothing. Writes
 * are produced with acks=all by an idempotent producer and resolve once this
 * instance has read them back (read-your-writes).
 *
 * Every record's MAC is verified before anything in it is used (record.ts).
 * A record that fails verification is reported to `onError` and never
 * applied: the endpoint keeps its previous state. An endpoint whose latest
 * record this instance cannot verify or decrypt (a key missing from
 * SECRETS_ENCRYPTION_KEYS, a secret that does not decrypt, or no MAC) is
 * quarantined: kept disabled, without secrets, with `quarantine` saying why,
 * so its events are dead-lettered as `endpoint-quarantined` (redrivable)
 * and operators see it; the instance starts all the same. A later readable
 * record lifts the quarantine. Malformed records are reported and skipped.
 *
 * Concurrent writes to one subscription from several instances: the last
 * record in the log wins (there is no compare-and-set on Kafka); writes from
 * one instance are applied in order.
 */
export class TopicSubscriptionStore extends MaterializedSubscriptionStore {
  readonly topic: string
  readonly groupId: string
  readonly #kafka: Kafka
  readonly #cipher: SecretCipher
  readonly #partitions: number
  readonly #replicationFactor: number
  readonly #writeTimeoutMs: number
  readonly #catchUpStallMs: number
  readonly #compression: CompressionTypes | undefined
  /** Partitions stopped at an undecodable record batch: nothing past it is applied. */
  readonly #stopped = new Set<number>()
  #state: State = 'new'
  #starting: Promise<void> | undefined
  #closing: Promise<void> | undefined
  #admin: Admin | undefined
  #producer: Producer | undefined
  #consumer: Consumer | undefined
  /** Per partition, the next offset to apply. */
  readonly #positions = new Map<number, bigint>()
  #endOffsets: Map<number, bigint> | undefined
  #caughtUp: { resolve: () => void, reject: (err: unknown) => void } | undefined
  #waiters: Waiter[] = []
  #stallTimer: NodeJS.Timeout | undefined
  readonly #acceptUnsigned: boolean
  /** Subscriptions whose latest record was applied without a MAC (migration): rewritten signed after start. */
  readonly #unsigned = new Set<string>()

  constructor (options: TopicSubscriptionStoreOptions) {
    super(options)
    this.#kafka = options.kafka
    this.#cipher = options.cipher
    this.topic = options.topic ?? DEFAULT_SUBSCRIPTIONS_TOPIC
    this.#partitions = options.partitions ?? 1
    this.#replicationFactor = options.replicationFactor ?? -1
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 30_000
    this.#catchUpStallMs = options.catchUpStallMs ?? 5000
    this.#compression = options.compression
    this.#acceptUnsigned = options.acceptUnsignedRecords ?? false
    this.groupId = `${options.groupIdPrefix ?? 'webhook-dispatcher-subscriptions'}-${randomUUID()}`
  }

  /** Partitions stopped at an undecodable record batch (start-up then never completes). */
  get stoppedPartitions (): number {
    return this.#stopped.size
  }

  /** Endpoints in quarantine now (webhooks_quarantined_subscriptions). */
  get quarantined (): number {
    return this.all().filter((s) => s.quarantined !== undefined).length
  }

  /** True between a successful `start()` and `close()`. */
  get ready (): boolean {
    return this.#state === 'running'
  }

  /** Materialises the topic; resolves once every record present at the call is applied. Idempotent. */
  async start (): Promise<void> {
    this.#starting ??= this.#start()
    await this.#starting
  }

  /** Stops reading and writing; pending writes reject. A second call waits for the first. */
  async close (): Promise<void> {
    this.#closing ??= this.#close()
    await this.#closing
  }

  async #start (): Promise<void> {
    if (this.#state !== 'new') throw new SubscriptionStoreUnavailableError(`the subscription store is ${this.#state}`)
    this.#state = 'starting'
    const caughtUp = new Promise<void>((resolve, reject) => { this.#caughtUp = { resolve, reject } })
    // Awaited below; this keeps an early rejection (a crash while connecting) from counting as unhandled meanwhile.
    caughtUp.catch(() => undefined)
    try {
      this.#admin = this.#kafka.admin()
      await this.#admin.connect()
      await this.#ensureTopic(this.#admin)
      const ends = new Map<number, bigint>()
      const admin = this.#admin
      for (const p of await retryRetriable(() => admin.fetchTopicOffsets(this.topic))) {
        ends.set(p.partition, BigInt(p.high))
        this.#positions.set(p.partition, BigInt(p.low))
      }
      this.#endOffsets = ends

      this.#producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner })
      await this.#producer.connect()
      const consumer = this.#consumer = this.#kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000 })
      consumer.on(consumer.events.GROUP_JOIN, () => {
        // Resume where the view stands, not at the beginning, when kafkajs
        // rejoins after a restart: replaying old records would show stale
        // states for a moment. The event precedes the first fetch, which
        // applies the seeks.
        for (const [partition, offset] of this.#positions) consumer.seek({ topic: this.topic, partition, offset: offset.toString() })
      })
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        // Also fires for batches of only filtered records, which never reach eachBatch.
        if (payload.topic === this.topic && !this.#stopped.has(payload.partition)) this.#advance(payload.partition, BigInt(payload.lastOffset) + 1n)
      })
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        const err = payload.error
        if (this.#state === 'starting' && !payload.restart) this.#caughtUp?.reject(err)
        else if (this.#state === 'starting' || this.#state === 'running') {
          this.reportError(err, { op: payload.restart ? 'consume (restarting)' : 'consume (stopped: the view no longer changes)', fatal: !payload.restart })
        }
      })
      await consumer.connect()
      await retryRetriable(() => consumer.subscribe({ topics: [this.topic], fromBeginning: true }))
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          let position = this.#positions.get(batch.partition) ?? 0n
          for (const message of batch.messages) {
            const offset = BigInt(message.offset)
            if (offset < position) continue
            const undecodable = undecodableBatchOf(message)
            if (undecodable !== undefined) {
              // Skipping it could hide a subscription's latest state: stop
              // here, as the dispatcher's lanes do, and say so.
              this.#stopAt(consumer, batch.partition, message.offset, undecodable)
              break
            }
            this.#applyRecord(message, batch.partition)
            position = offset + 1n
          }
          this.#advance(batch.partition, position)
        }
      })
      this.#checkCaughtUp()
      this.#watchCatchUp()
      await caughtUp
      if (this.#state !== 'starting') throw new SubscriptionStoreUnavailableError('the subscription store was closed while starting')
      this.#state = 'running'
      await this.#rewriteUnsigned()
    } catch (err) {
      if (this.#state === 'starting') await this.close()
      throw err
    } finally {
      clearInterval(this.#stallTimer)
    }
  }

  async #ensureTopic (admin: Admin): Promise<void> {
    if (!(await admin.listTopics()).includes(this.topic)) {
      // false: another instance created it meanwhile, which is as good.
      await retryRetriable(() => admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic: this.topic,
          numPartitions: this.#partitions,
          replicationFactor: this.#replicationFactor,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }]
        }]
      }))
      return
    }
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC_RESOURCE, name: this.topic, configNames: ['cleanup.policy'] }]
    })
    const policy = resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue
    if (policy !== 'compact') {
      // With deletion, subscriptions older than the retention would vanish.
      throw new TopicLayoutError(this.topic, `cleanup.policy is "${policy ?? 'unknown'}"; the subscriptions topic must have cleanup.policy=compact`)
    }
  }

  #stopAt (consumer: Consumer, partition: number, offset: string, problem: { codec: string, reason: string }): void {
    if (this.#stopped.has(partition)) return
    this.#stopped.add(partition)
    consumer.pause([{ topic: this.topic, partitions: [partition] }])
    this.reportError(new UndecodableBatchError({ topic: this.topic, partition, offset }, problem), { op: 'read', partition, offset })
  }

  #applyRecord (message: KafkaMessage, partition: number): void {
    const id = message.key?.toString('utf8')
    try {
      const decoded = decodeSubscriptionRecord(message.key, message.value, this.#cipher, { acceptUnsigned: this.#acceptUnsigned })
      if (decoded.unsigned === true) this.#unsigned.add(decoded.id)
      else this.#unsigned.delete(decoded.id)
      this.apply(decoded.id, decoded.subscription)
    } catch (err) {
      const reason = recordRefusalReason(err)
      if (id !== undefined && (reason === 'undecryptable' || reason === 'unsigned')) {
        // Not verifiable here (a key this instance lacks, or no MAC): the
        // record may well be genuine and newer than the state held, so the
        // endpoint stops delivering rather than keep a state that may be
        // stale. The claims it keeps are unverified; it has no secrets.
        const kid = (err as Partial<SecretKeyError>).kid
        const why = reason === 'unsigned' ? 'unsigned record' : `cannot verify or decrypt: ${kid === undefined ? 'secret' : `key "${kid}"`}`
        const quarantined = quarantinedState(message.key, message.value, why)
        if (quarantined !== undefined) {
          this.#unsigned.delete(id)
          this.apply(id, quarantined)
        }
      }
      // Otherwise (a MAC that does not verify, a malformed record) the
      // subscription keeps its previous state; a later record can repair it.
      this.reportError(err, { op: 'apply', id, partition, offset: message.offset })
    }
  }

  /** The migration: every subscription last read from a record without a MAC is written again, signed. */
  async #rewriteUnsigned (): Promise<void> {
    for (const id of [...this.#unsigned]) {
      const current = this.stored(id)
      if (current === undefined || current.quarantine !== undefined) continue
      try {
        await this.persist(id, current)
      } catch (err) {
        this.reportError(err, { op: 'rewrite unsigned record', id })
      }
    }
  }

  #advance (partition: number, position: bigint): void {
    if (position <= (this.#positions.get(partition) ?? 0n)) return
    this.#positions.set(partition, position)
    if (this.#waiters.length > 0) {
      this.#waiters = this.#waiters.filter((w) => {
        if (w.partition !== partition || w.offset >= position) return true
        clearTimeout(w.timer)
        w.resolve()
        return false
      })
    }
    this.#checkCaughtUp()
  }

  #checkCaughtUp (): void {
    if (this.#state !== 'starting' || this.#endOffsets === undefined) return
    for (const [partition, end] of this.#endOffsets) {
      if ((this.#positions.get(partition) ?? 0n) < end) return
    }
    // Subscriptions that cannot be decrypted are quarantined (#applyRecord),
    // not a reason to stay down: one bad record must not stop every instance.
    this.#caughtUp?.resolve()
  }

  /**
   * Compaction may remove a partition's last records (an old tombstone, say),
   * so nothing is left to read up to the end offset captured at start. When
   * a partition makes no progress for a while, a marker (a tombstone of a key
   * no subscription has) written to it gives the reader a record past that
   * end; reading it proves everything before was read.
   */
  #watchCatchUp (): void {
    const seen = new Map(this.#positions)
    const marked = new Set<number>()
    this.#stallTimer = setInterval(() => {
      for (const [partition, end] of this.#endOffsets ?? []) {
        const position = this.#positions.get(partition) ?? 0n
        const stalled = position < end && position === seen.get(partition) && !marked.has(partition)
        seen.set(partition, position)
        if (!stalled) continue
        marked.add(partition)
        this.#producer?.send({ topic: this.topic, acks: -1, compression: this.#compression, messages: [{ ...encodeTombstone(SYNC_MARKER_KEY), partition }] })
          .catch((err: unknown) => this.reportError(err, { op: 'catch-up marker', partition }))
      }
    }, this.#catchUpStallMs)
    this.#stallTimer.unref()
  }

  protected async persist (id: string, next: StoredSubscription | undefined): Promise<void> {
    const producer = this.#producer
    if (this.#state !== 'running' || producer === undefined) {
      throw new SubscriptionStoreUnavailableError(`the subscription store is ${this.#state === 'new' ? 'not started' : this.#state}; cannot write subscription "${id}"`)
    }
    const record = next === undefined ? encodeTombstone(id) : encodeSubscriptionRecord(next, this.#cipher)
    let partition: number
    let offset: bigint
    try {
      const [metadata] = await producer.send({ topic: this.topic, acks: -1, compression: this.#compression, messages: [record] })
      const base = metadata?.baseOffset ?? metadata?.offset
      if (metadata === undefined || base === undefined) throw new Error('the broker returned no offset')
      partition = metadata.partition
      offset = BigInt(base)
    } catch (err) {
      throw new SubscriptionStoreUnavailableError(`writing subscription "${id}" to ${this.topic} failed: ${(err as Error).message}`, { cause: err })
    }
    await this.#readBack(id, partition, offset)
  }

  async #readBack (id: string, partition: number, offset: bigint): Promise<void> {
    if ((this.#positions.get(partition) ?? 0n) > offset) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(new SubscriptionStoreUnavailableError(
          `subscription "${id}" was written (${this.topic} partition ${partition} offset ${offset}) but this instance has not read it back within ${this.#writeTimeoutMs} ms; it applies when the store catches up`
        ))
      }, this.#writeTimeoutMs)
      const waiter: Waiter = { partition, offset, resolve, reject, timer }
      this.#waiters.push(waiter)
    })
  }

  async #close (): Promise<void> {
    const wasStarting = this.#state === 'starting'
    this.#state = 'closing'
    clearInterval(this.#stallTimer)
    if (wasStarting) this.#caughtUp?.reject(new SubscriptionStoreUnavailableError('the subscription store was closed while starting'))
    for (const w of this.#waiters) {
      clearTimeout(w.timer)
      w.reject(new SubscriptionStoreUnavailableError('the subscription store closed before the write was read back; it stays written'))
    }
    this.#waiters = []
    // Every step runs even if an earlier one fails.
    const steps: Array<() => Promise<void> | undefined> = [
      () => this.#consumer?.disconnect(),
      () => this.#producer?.disconnect(),
      // The group committed nothing; remove it rather than wait for it to expire.
      () => (this.#consumer === undefined ? undefined : this.#admin?.deleteGroups([this.groupId]).then(() => undefined)),
      () => this.#admin?.disconnect()
    ]
    for (const step of steps) {
      try {
        await step()
      } catch {}
    }
    this.#state = 'closed'
  }
}
