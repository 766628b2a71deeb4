// The portal ledger on Kafka (http/portal/ledger.ts): every instance reads
// one single-partition topic from its start and keeps, per session id, the
// first claim of its link and whether it is revoked. One partition gives
// one order: of two instances exchanging the same link at once, both write
// a claim and both read the same first one, so exactly one signs in.
// Records only need to outlive the longest link or session, so the topic
// deletes after two days instead of compacting.
import { randomUUID } from 'node:crypto'
import { Partitioners, type CompressionTypes, type Consumer, type Kafka, type Producer } from 'kafkajs'
import type { PortalLedger } from '../portal/ledger.js'
import { retryRetriable } from '../retriable.js'

const RETENTION_MS = 2 * 24 * 3600 * 1000

interface LedgerRecord { kind: 'claim' | 'revoke', nonce?: string, until: number }

export interface KafkaPortalLedgerOptions {
  kafka: Kafka
  topic: string
  replicationFactor?: number
  compression?: CompressionTypes
  /** How long a claim or revocation may take to come back from the topic. @defaultValue 10000 */
  timeoutMs?: number
  now?: () => number
}

const unavailable = (what: string): Error => Object.assign(new Error(`the portal ledger is unavailable: ${what}`), { code: 'WHD_ERR_UNAVAILABLE', retriable: true })

export class KafkaPortalLedger implements PortalLedger {
  readonly #options: KafkaPortalLedgerOptions
  readonly #firstClaim = new Map<string, { nonce: string, until: number }>()
  readonly #revoked = new Map<string, number>()
  /** The next offset to read. */
  #position = 0n
  #waiters: Array<{ offset: bigint, resolve: () => void }> = []
  #producer: Producer | undefined
  #consumer: Consumer | undefined
  #closing: Promise<void> | undefined

  constructor (options: KafkaPortalLedgerOptions) {
    this.#options = options
  }

  /** Creates the topic if missing and resolves once everything written before is read. */
  async start (): Promise<void> {
    const { kafka, topic } = this.#options
    const admin = kafka.admin()
    await admin.connect()
    let end: bigint
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        await retryRetriable(() => admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: 1, replicationFactor: this.#options.replicationFactor ?? -1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }, { name: 'retention.ms', value: String(RETENTION_MS) }] }]
        }))
      }
      const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic))
      end = BigInt(offsets.find((p) => p.partition === 0)?.high ?? '0')
      this.#position = BigInt(offsets.find((p) => p.partition === 0)?.low ?? '0')
    } finally {
      await admin.disconnect()
    }
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    await this.#producer.connect()
    const consumer = this.#consumer = kafka.consumer({ groupId: `webhook-dispatcher-portal-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 })
    await consumer.connect()
    await retryRetriable(() => consumer.subscribe({ topics: [topic], fromBeginning: true }))
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        this.#apply(message.key?.toString('utf8'), message.value?.toString('utf8'))
        this.#advance(BigInt(message.offset) + 1n)
      }
    })
    await this.#reach(end - 1n, 'catching up with the topic')
  }

  async claimLink (id: string, until: number): Promise<boolean> {
    if (this.#firstClaim.has(id)) return false
    const nonce = randomUUID()
    await this.#write(id, { kind: 'claim', nonce, until })
    return this.#firstClaim.get(id)?.nonce === nonce
  }

  async revoke (id: string, until: number): Promise<void> {
    await this.#write(id, { kind: 'revoke', until })
  }

  isRevoked (id: string): boolean {
    return this.#revoked.has(id)
  }

  async close (): Promise<void> {
    this.#closing ??= (async () => {
      await this.#consumer?.disconnect().catch(() => undefined)
      await this.#producer?.disconnect().catch(() => undefined)
    })()
    return await this.#closing
  }

  /** Writes a record and waits until this instance has read it back (so the topic's order has spoken). */
  async #write (id: string, record: LedgerRecord): Promise<void> {
    if (this.#producer === undefined) throw unavailable('not started')
    const [meta] = await this.#producer.send({ topic: this.#options.topic, acks: -1, compression: this.#options.compression, messages: [{ key: id, value: JSON.stringify(record), partition: 0 }] })
    if (meta?.baseOffset === undefined) throw unavailable('the write was not acknowledged')
    await this.#reach(BigInt(meta.baseOffset), 'reading back a write')
  }

  #apply (key: string | undefined, value: string | undefined): void {
    if (key === undefined || value === undefined) return
    let record: LedgerRecord
    try {
      record = JSON.parse(value) as LedgerRecord
    } catch {
      return
    }
    const now = (this.#options.now ?? Date.now)()
    if (typeof record.until !== 'number' || record.until <= now) return
    if (record.kind === 'claim' && typeof record.nonce === 'string' && !this.#firstClaim.has(key)) this.#firstClaim.set(key, { nonce: record.nonce, until: record.until })
    if (record.kind === 'revoke') this.#revoked.set(key, record.until)
    // Forget what has expired: its tokens are refused by their own expiry.
    if ((this.#firstClaim.size + this.#revoked.size) % 1000 === 0) {
      for (const [id, claim] of this.#firstClaim) if (claim.until <= now) this.#firstClaim.delete(id)
      for (const [id, until] of this.#revoked) if (until <= now) this.#revoked.delete(id)
    }
  }

  #advance (position: bigint): void {
    if (position <= this.#position) return
    this.#position = position
    const ready = this.#waiters.filter((w) => w.offset < position)
    this.#waiters = this.#waiters.filter((w) => w.offset >= position)
    for (const waiter of ready) waiter.resolve()
  }

  /** Resolves once the record at `offset` has been read; -1 (an empty topic) at once. */
  async #reach (offset: bigint, what: string): Promise<void> {
    if (offset < this.#position) return
    const timeoutMs = this.#options.timeoutMs ?? 10_000
    await new Promise<void>((resolve, reject) => {
      const waiter = { offset, resolve: () => { clearTimeout(timer); resolve() } }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(unavailable(`${what} took over ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiters.push(waiter)
    })
  }
}
