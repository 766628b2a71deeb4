// Which instance runs the replay jobs: the member of the consumer group
// `<KAFKA_GROUP_ID>-replays` that is assigned the jobs topic's one
// partition. It reads the topic from the start on every assignment (no
// commits: the topic is small and compacted), and once it has read to the
// end it runs every job whose latest record says `running`, resuming from
// its checkpoints; a `cancelled` record stops a job it runs. An instance
// that loses the partition stops its jobs at their next chunk; until its
// next heartbeat shows the loss (a few seconds), the new owner may run the
// same chunk too: duplicates, within the chunk bound.
import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { earlierOverlap, expiredReplayJobs, type ReplayJob } from '../engine/replay-job.js'
import { deleteReplayJob, foldJobMessage, writeReplayJob } from './jobs-topic.js'
import { runReplayJob, type ReplayRunnerDeps } from './runner.js'

/** Jobs one owner runs at once; more wait their turn (REPLAY_MAX_JOBS_PER_TENANT bounds each tenant's). */
const MAX_RUNNING = 8
const RECONCILE_MS = 2_000

export interface ReplayCoordinatorOptions {
  kafka: Kafka
  groupId: string
  sessionTimeoutMs: number
  runner: ReplayRunnerDeps
  /** REPLAY_KEEP_FINISHED_DAYS, in milliseconds: how long a finished job stays on the topic. */
  keepFinishedMs: number
  /** webhooks_replay_jobs_running. */
  running: { set: (value: number) => void }
  log: Logger
}

export class ReplayCoordinator {
  readonly #o: ReplayCoordinatorOptions
  readonly #log: Logger
  readonly #jobs = new Map<string, ReplayJob>()
  readonly #running = new Map<string, { abort: AbortController, done: Promise<void> }>()
  /** Finished here since the last assignment: their final record may not be read back yet. */
  readonly #finished = new Set<string>()
  /** Tombstones written and not read back yet. */
  readonly #deleting = new Set<string>()
  #consumer: Consumer | undefined
  #owner = false
  #caughtUp = false
  #timer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined

  constructor (o: ReplayCoordinatorOptions) {
    this.#o = o
    this.#log = o.log
  }

  /** Jobs running on this instance (for tests and metrics). */
  get running (): number {
    return this.#running.size
  }

  async start (): Promise<void> {
    const topic = this.#o.runner.jobsTopic
    const consumer = this.#o.kafka.consumer({ groupId: this.#o.groupId, sessionTimeout: this.#o.sessionTimeoutMs, maxWaitTimeInMs: 500, allowAutoTopicCreation: false })
    this.#consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const owns = (event.payload.memberAssignment[topic] ?? []).includes(0)
      this.#stopAll('no longer this instance\'s to run')
      this.#jobs.clear()
      this.#finished.clear()
      this.#deleting.clear()
      this.#caughtUp = false
      this.#owner = owns
      if (owns) {
        this.#log.info('replay jobs: this instance runs them')
        consumer.seek({ topic, partition: 0, offset: '0' })
      }
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (!this.#owner) return
        for (const message of batch.messages) foldJobMessage(this.#jobs, message)
        if (batch.messages.length === 0 || BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark)) this.#caughtUp = true
        this.#reconcile()
      }
    })
    this.#timer = setInterval(() => { this.#reconcile() }, RECONCILE_MS)
    this.#timer.unref()
  }

  #reconcile (): void {
    if (!this.#owner || !this.#caughtUp || this.#closing !== undefined) return
    for (const [id, run] of this.#running) {
      const state = this.#jobs.get(id)?.state
      if (state === 'cancelled') run.abort.abort()
    }
    for (const job of this.#jobs.values()) {
      if (this.#running.size >= MAX_RUNNING) break
      if (job.state !== 'running' || this.#running.has(job.id) || this.#finished.has(job.id)) continue
      const earlier = earlierOverlap(this.#jobs.values(), job)
      if (earlier !== undefined) {
        this.#refuse(job, `overlaps ${earlier.id}`)
        continue
      }
      this.#launch(job)
    }
    for (const job of expiredReplayJobs(this.#jobs.values(), this.#o.runner.now(), this.#o.keepFinishedMs)) this.#delete(job)
  }

  /** Deletes a job finished longer ago than REPLAY_KEEP_FINISHED_DAYS. */
  #delete (job: ReplayJob): void {
    if (this.#deleting.has(job.id)) return
    this.#deleting.add(job.id)
    deleteReplayJob(this.#o.runner.producer, this.#o.runner.jobsTopic, job.id, this.#o.runner.compression).then(() => {
      this.#log.info({ replayId: job.id, state: job.state, finishedAt: job.finishedAt }, 'finished replay deleted (REPLAY_KEEP_FINISHED_DAYS)')
    }, (err: unknown) => {
      // Tried again at the next reconcile.
      this.#deleting.delete(job.id)
      this.#log.warn({ err, replayId: job.id }, 'could not delete a finished replay')
    })
  }

  #launch (job: ReplayJob): void {
    const abort = new AbortController()
    const log = this.#log.child({ replayId: job.id })
    log.info({ endpointId: job.endpointId, counts: job.counts }, job.counts.scanned === 0 ? 'replay starting' : 'replay resuming from its checkpoints')
    const done = runReplayJob(this.#o.runner, job, abort.signal).then(async (last) => {
      if (last.state !== 'running') {
        this.#finished.add(job.id)
        return
      }
      // Stopped by a cancel: the last record says cancelled, with the counts it reached.
      if (this.#jobs.get(job.id)?.state === 'cancelled') {
        const cancelled = this.#jobs.get(job.id) as ReplayJob
        await writeReplayJob(this.#o.runner.producer, this.#o.runner.jobsTopic, { ...last, state: 'cancelled', reason: cancelled.reason ?? 'cancelled', finishedAt: cancelled.finishedAt ?? this.#o.runner.now(), updatedAt: this.#o.runner.now() }, this.#o.runner.compression)
        this.#finished.add(job.id)
        log.info({ counts: last.counts }, 'replay cancelled')
      }
    }, (err: unknown) => {
      // Tried again at the next reconcile, from its last checkpoint.
      log.warn({ err }, 'replay stopped by an error; it resumes from its checkpoint')
    }).finally(() => {
      this.#running.delete(job.id)
      this.#o.running.set(this.#running.size)
    })
    this.#running.set(job.id, { abort, done })
    this.#o.running.set(this.#running.size)
  }

  /** Ends a job that must not run, before it delivers anything. */
  #refuse (job: ReplayJob, reason: string): void {
    this.#finished.add(job.id)
    const at = this.#o.runner.now()
    this.#log.warn({ replayId: job.id, reason }, 'replay not run: it overlaps an earlier active replay of its endpoint')
    writeReplayJob(this.#o.runner.producer, this.#o.runner.jobsTopic, { ...job, state: 'cancelled', reason, finishedAt: at, updatedAt: at }, this.#o.runner.compression)
      .catch((err: unknown) => {
        // Not written: the next assignment's reconcile tries again.
        this.#finished.delete(job.id)
        this.#log.warn({ err, replayId: job.id }, 'could not record the replay as cancelled')
      })
  }

  #stopAll (why: string): void {
    if (this.#running.size > 0) this.#log.info({ jobs: [...this.#running.keys()], why }, 'replay jobs stopping')
    for (const run of this.#running.values()) run.abort.abort()
  }

  async close (): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer)
      this.#stopAll('closing')
      await Promise.allSettled([...this.#running.values()].map(async (r) => await r.done))
      await this.#consumer?.disconnect()
    })()
    await this.#closing
  }
}
