import { randomUUID } from 'node:crypto'
import type { Admin, CompressionTypes, Consumer, EachBatchPayload, Kafka, Message, Producer, TopicMessages } from 'kafkajs'
import { JavaCompatiblePartitioner, undecodableBatchOf } from '../../../events/src/index.js'
import { RedriveConflictError, TopicLayoutError, UndecodableBatchError } from '../errors.js'
import type { RedriveFilter } from '../dead-letters/filter.js'
import { conflictingRedrive, LOCK_HEARTBEAT_MS, type LifecycleView, type RedriveStamp } from '../dead-letters/lifecycle.js'
import { planRedrive, targetLabel, type RedriveDecision, type RedriveSkipReason } from '../dead-letters/plan.js'
import { ensureStateTopic, readLifecycle, writeLifecycle, writeLock } from './lifecycle-topic.js'

export interface RedriveOptions {
  kafka: Kafka
  /** The topic to scan (`DEAD_LETTER_TOPIC`). */
  deadLetterTopic: string
  /** Suffix of each source topic's retry topic (`RETRY_TOPIC_SUFFIX`). */
  retryTopicSuffix: string
  /** Codec of the retry records it writes (KAFKA_COMPRESSION). @defaultValue none */
  compression?: CompressionTypes
  /**
   * Which dead letters to redrive.
   * @defaultValue `{}` (all of them)
   */
  filter?: RedriveFilter
  /**
   * Scan and decide, write nothing.
   * @defaultValue false
   */
  dryRun?: boolean
  /**
   * Consumer group used for the scan. Offsets are never committed to it.
   * @defaultValue a throwaway `whd-redrive-<uuid>`, deleted afterwards
   */
  groupId?: string
  /** Stops the scan after the batch at hand; the result says `complete: false`. */
  signal?: AbortSignal
  /** Called every {@link progressIntervalMs} and once at the end, also after a failure. */
  onProgress?: (progress: RedriveProgress) => void
  /** @defaultValue 1000 */
  progressIntervalMs?: number
  /** Called for every selected dead letter once its fate is final (after the ack when writing). */
  onRecord?: (event: RedriveRecordEvent) => void
  /** @defaultValue `Date.now` */
  now?: () => number
  /**
   * The dead-letter state topic (DEAD_LETTER_STATE_TOPIC). With it, letters
   * redriven before are skipped (`already-redriven`) unless {@link again},
   * each redriven letter's state becomes `redriven` (written before its retry
   * record), and a redrive whose set overlaps one already running anywhere
   * is refused with `RedriveConflictError`.
   * @defaultValue none: every selected letter is redriven, nothing recorded
   */
  stateTopic?: string
  /** Redrive letters redriven before as well. @defaultValue false */
  again?: boolean
  /** Who asks, recorded with each letter's state: `cli:<user>@<host>`, `admin-api:<token id>`. @defaultValue `unknown` */
  by?: string
  /** @defaultValue a random UUID */
  redriveId?: string
}

export interface RedriveCounts {
  /** Dead letters read (below the end offsets captured at start). */
  scanned: number
  /** Of those, selected by the filter. */
  matched: number
  /** Of those, written to a retry topic (in a dry run: would be). */
  redriven: number
  /** Of those, not redrivable (see `skippedByReason`). */
  skipped: number
}

export interface RedriveProgress extends RedriveCounts {
  /** Dead letters between the start and the end offsets captured at start. */
  toScan: number
  dryRun: boolean
}

export interface RedriveResult extends RedriveProgress {
  /** This redrive's id, recorded with each letter it redrove. */
  redriveId: string
  /** False when stopped by the signal before reaching the captured end. */
  complete: boolean
  skippedByReason: Partial<Record<RedriveSkipReason, number>>
  /** Redriven records per target `topic:partition`. */
  redrivenByTarget: Record<string, number>
}

/** One selected dead letter and what was done with it. */
export interface RedriveRecordEvent {
  deadLetter: { topic: string, partition: number, offset: string }
  decision: Exclude<RedriveDecision, { kind: 'unmatched' }>
  dryRun: boolean
}

/** The part of one dead-letter partition to scan: [next, end). */
interface ScanRange {
  next: bigint
  end: bigint
}

type Selected = RedriveRecordEvent & { decision: { kind: 'redrive' | 'skip' } }

/**
 * Moves dead letters back into the retry lane (DESIGN §4 "a redrive command
 * (and admin API call)"). Captures the dead-letter topic's end offsets,
 * scans every partition from its start up to them with a consumer that never
 * commits, and produces each selected, redrivable letter to the retry
 * partition that owns its key, with a fresh retry budget
 * ({@link planRedrive}). Idempotent producer, acks=all; the letters of one
 * dead-letter partition are produced in their log order, and every letter of
 * one key sits in one dead-letter partition (it is keyed like its source),
 * so the order per (subscription, account) is kept.
 *
 * With a state topic (`stateTopic`), a letter redriven once is skipped the
 * next time unless `again`, so running the same redrive twice sends nothing
 * twice; without one, it writes those records again (receivers dedupe on
 * `webhook-id`). Rejects on a Kafka error (what was acknowledged stays
 * written, states included: rerun with `again` for the letters whose retry
 * record a failed batch did not write), and with `RedriveConflictError` when
 * an overlapping redrive is running.
 */
export async function redrive (options: RedriveOptions): Promise<RedriveResult> {
  const { kafka, deadLetterTopic: topic, retryTopicSuffix, filter = {}, dryRun = false, signal } = options
  const now = options.now ?? Date.now
  const groupId = options.groupId ?? `whd-redrive-${randomUUID()}`
  const redriveId = options.redriveId ?? randomUUID()
  const { stateTopic } = options
  const result: RedriveResult = {
    redriveId, scanned: 0, matched: 0, redriven: 0, skipped: 0, toScan: 0, dryRun, complete: false, skippedByReason: {}, redrivenByTarget: {}
  }
  const report = (): void => options.onProgress?.({ scanned: result.scanned, matched: result.matched, redriven: result.redriven, skipped: result.skipped, toScan: result.toScan, dryRun })
  const admin = kafka.admin()
  let producer: Producer | undefined
  let consumer: Consumer | undefined
  let progressTimer: NodeJS.Timeout | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let locked = false
  try {
    await admin.connect()
    const topics = await admin.listTopics()
    if (!topics.includes(topic)) throw new TopicLayoutError(topic, 'the dead-letter topic does not exist (check DEAD_LETTER_TOPIC)')
    let lifecycle: LifecycleView | undefined
    const stamp: RedriveStamp = { redriveId, redrivenAt: now(), redrivenBy: options.by ?? 'unknown' }
    if (stateTopic !== undefined) {
      await ensureStateTopic(admin, stateTopic)
      if (!dryRun) {
        producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
        await producer.connect()
        // Lock first, then read: of two redrives that start at once, each
        // reads the other's lock, and the topic's order says which goes on.
        const lock = { ...stamp, filter, heartbeatAt: now() }
        await writeLock(producer, stateTopic, redriveId, lock)
        locked = true
        const writer = producer
        heartbeat = setInterval(() => {
          writeLock(writer, stateTopic, redriveId, { ...lock, heartbeatAt: now() }).catch(() => undefined)
        }, LOCK_HEARTBEAT_MS)
        heartbeat.unref()
      }
      lifecycle = await readLifecycle(kafka, stateTopic)
      const conflict = dryRun ? undefined : conflictingRedrive(lifecycle, redriveId, now())
      if (conflict !== undefined) {
        throw new RedriveConflictError(conflict.redriveId, `redrive ${conflict.redriveId} (by ${conflict.lock.redrivenBy}, started ${new Date(conflict.lock.redrivenAt).toISOString()}) is running over an overlapping set of dead letters; retry when it has finished`)
      }
    }
    const lifecycleOption = lifecycle === undefined ? undefined : { letters: lifecycle.letters, again: options.again === true, stamp }
    const ranges = new Map<number, ScanRange>()
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const range = { next: BigInt(p.low), end: BigInt(p.high) }
      ranges.set(p.partition, range)
      result.toScan += Number(range.end - range.next)
    }
    const retryPartitions = await retryTopicPartitions(admin, topics, retryTopicSuffix)
    progressTimer = setInterval(report, options.progressIntervalMs ?? 1000)
    progressTimer.unref()
    if (result.toScan > 0 && signal?.aborted !== true) {
      if (!dryRun && producer === undefined) {
        producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner })
        await producer.connect()
      }
      consumer = kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 250,
        // A CLI run fails rather than restarting itself behind the operator's back.
        retry: { retries: 5, restartOnFailure: async () => false }
      })
      await scan({ consumer, producer, compression: options.compression, topic, ranges, signal, stateTopic }, (message, partition) => {
        const decision = planRedrive(message, filter, { retryTopicSuffix, now: now(), retryPartitions, ...(lifecycleOption === undefined ? {} : { lifecycle: lifecycleOption }) }, { topic, partition, offset: message.offset })
        return decision.kind === 'unmatched'
          ? undefined
          : { deadLetter: { topic, partition, offset: message.offset }, decision, dryRun }
      }, (scanned, selected) => {
        result.scanned += scanned
        for (const event of selected) {
          result.matched++
          if (event.decision.kind === 'redrive') {
            result.redriven++
            const label = targetLabel(event.decision.target)
            result.redrivenByTarget[label] = (result.redrivenByTarget[label] ?? 0) + 1
          } else {
            result.skipped++
            result.skippedByReason[event.decision.reason] = (result.skippedByReason[event.decision.reason] ?? 0) + 1
          }
          options.onRecord?.(event)
        }
      })
    }
    result.complete = [...ranges.values()].every((r) => r.next >= r.end)
    return result
  } finally {
    if (progressTimer !== undefined) {
      clearInterval(progressTimer)
      report()
    }
    if (heartbeat !== undefined) clearInterval(heartbeat)
    const steps: Array<() => Promise<void>> = [
      async () => { await consumer?.disconnect() },
      // A lock left behind (this step failing) expires after LOCK_EXPIRY_MS.
      async () => { if (locked && producer !== undefined && stateTopic !== undefined) await writeLock(producer, stateTopic, redriveId, undefined) },
      async () => { await producer?.disconnect() },
      // Nothing was committed, so the group holds no state worth keeping.
      async () => { if (consumer !== undefined && options.groupId === undefined) await admin.deleteGroups([groupId]) },
      async () => { await admin.disconnect() }
    ]
    for (const step of steps) await step().catch(() => undefined)
  }
}

async function retryTopicPartitions (admin: Admin, topics: string[], suffix: string): Promise<Map<string, number>> {
  const retryTopics = topics.filter((t) => t.endsWith(suffix))
  if (retryTopics.length === 0) return new Map()
  const metadata = await admin.fetchTopicMetadata({ topics: retryTopics })
  return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]))
}

interface ScanContext {
  consumer: Consumer
  /** Undefined in a dry run. */
  producer: Producer | undefined
  compression: CompressionTypes | undefined
  topic: string
  ranges: Map<number, ScanRange>
  signal: AbortSignal | undefined
  /** Where the redriven letters' states are written, before their retry records. */
  stateTopic: string | undefined
}

/**
 * Reads every partition of the topic from `next` to `end`, one batch at a
 * time (kafkajs runs one partition's batch at a time by default), writing a
 * batch's redrives before the next batch is read.
 */
async function scan (
  { consumer, producer, compression, topic, ranges, signal, stateTopic }: ScanContext,
  decide: (message: EachBatchPayload['batch']['messages'][number], partition: number) => RedriveRecordEvent | undefined,
  account: (scanned: number, selected: Selected[]) => void
): Promise<void> {
  let stop: (err?: unknown) => void = () => undefined
  const stopped = new Promise<void>((resolve, reject) => {
    stop = (err) => { if (err === undefined) resolve(); else reject(err) }
  })
  // Handled where it is awaited; this keeps an early rejection (a crash
  // during connect) from counting as unhandled meanwhile.
  stopped.catch(() => undefined)
  let finished = false
  const finish = (err?: unknown): void => {
    if (finished) return
    finished = true
    stop(err)
  }
  const allDone = (): boolean => [...ranges.values()].every((r) => r.next >= r.end)
  const onAbort = (): void => finish()
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted === true) finish()

  consumer.on(consumer.events.CRASH, (event) => finish(event.payload.error))
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    // Another member in the group (a --group-id shared with a concurrent
    // run) would take partitions this scan waits for, for ever.
    const assigned = event.payload.memberAssignment[topic]?.length ?? 0
    if (assigned < ranges.size) {
      finish(new Error(`consumer group ${event.payload.groupId} gave this scan ${assigned} of ${ranges.size} partitions of ${topic}; another consumer is in the group (use a group of its own)`))
      return
    }
    // Position every partition where the scan stands, even when a --group-id
    // holds committed offsets. kafkajs emits this event before its first
    // fetch, which applies the seeks; with autoCommit off a seek commits
    // nothing.
    for (const [partition, range] of ranges) {
      if (range.next < range.end) consumer.seek({ topic, partition, offset: range.next.toString() })
      else consumer.pause([{ topic, partitions: [partition] }])
    }
  })
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (finished) return
        const range = ranges.get(batch.partition)
        if (range === undefined || range.next >= range.end) return
        try {
          let position = range.next
          let scanned = 0
          const selected: Selected[] = []
          for (const message of batch.messages) {
            const offset = BigInt(message.offset)
            // Below: already handled (a re-fetch). At or past the end
            // captured at start: written after the scan began.
            if (offset < position) continue
            if (offset >= range.end || signal?.aborted === true) break
            const undecodable = undecodableBatchOf(message)
            // Skipping it would leave its letters behind unseen: stop, and say where.
            if (undecodable !== undefined) throw new UndecodableBatchError({ topic, partition: batch.partition, offset: message.offset }, undecodable)
            scanned++
            position = offset + 1n
            const event = decide(message, batch.partition)
            if (event !== undefined) selected.push(event as Selected)
          }
          const messages = selected.filter((e) => e.decision.kind === 'redrive')
          if (producer !== undefined && messages.length > 0) {
            // The state first: the retry lane's transition (delivered, dead
            // again) must land after it on the state topic.
            if (stateTopic !== undefined) {
              await writeLifecycle(producer, stateTopic, compression, messages.flatMap((e) => (e.decision.kind === 'redrive' && e.decision.lifecycle !== undefined ? [e.decision.lifecycle] : [])))
            }
            await producer.sendBatch({ acks: -1, compression, topicMessages: byTopic(messages) })
          }
          // Counted and advanced only once acknowledged: a failed send is not
          // reported as redriven.
          range.next = position
          account(scanned, selected)
          if (range.next >= range.end) consumer.pause([{ topic, partitions: [batch.partition] }])
          if (allDone() || signal?.aborted === true) finish()
        } catch (err) {
          finish(err)
          return
        }
        await heartbeat()
      }
    })
    await stopped
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

// Messages keep their order within each topic's list, so each target
// partition receives them in dead-letter order.
function byTopic (events: Selected[]): TopicMessages[] {
  const grouped = new Map<string, Message[]>()
  for (const { decision } of events) {
    if (decision.kind !== 'redrive') continue
    const list = grouped.get(decision.target.topic) ?? []
    list.push({ key: decision.record.key, value: decision.record.value, headers: decision.record.headers, partition: decision.target.partition })
    grouped.set(decision.target.topic, list)
  }
  return [...grouped].map(([t, messages]) => ({ topic: t, messages }))
}
