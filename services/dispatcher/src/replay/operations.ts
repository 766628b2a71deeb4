// The replay jobs behind the admin API and the CLI (engine/replay-job.ts's
// ReplayOperations): every read goes to the jobs topic, so any instance
// answers for every job. A request is checked against the range rules, the
// endpoint's active jobs and the tenant's limit, then retention; its ranges
// are fixed from offsetsForTimes before the job is written.
import { randomUUID } from 'node:crypto'
import type { CompressionTypes, Kafka, Producer } from 'kafkajs'
import { checkReplayRange, checkRetention, checkTenantLimit, overlappingJob, type ReplayJob, type ReplayOperations } from '../engine/replay-job.js'
import { readReplayJobs, writeReplayJob } from './jobs-topic.js'
import { earliestRetained, replayRanges } from './source-offsets.js'

export interface ReplayOperationsOptions {
  kafka: Kafka
  producer: Producer
  jobsTopic: string
  sourceTopics: readonly string[]
  compression?: CompressionTypes
  /** REPLAY_MAX_RANGE_HOURS in milliseconds. */
  maxRangeMs: number
  /** REPLAY_MAX_JOBS_PER_TENANT. */
  maxJobsPerTenant: number
  /** @defaultValue `Date.now` */
  now?: () => number
}

export function createReplayOperations (o: ReplayOperationsOptions): ReplayOperations {
  const now = o.now ?? Date.now
  return {
    async create (request) {
      const at = now()
      const range = checkReplayRange(request.since, request.until, at, o.maxRangeMs)
      if (range !== undefined) return { kind: 'refused', refusal: range }
      const jobs = (await readReplayJobs(o.kafka, o.jobsTopic)).values()
      const all = [...jobs]
      const overlap = overlappingJob(all, request.endpointId, request.since, request.until)
      if (overlap !== undefined) {
        return { kind: 'refused', refusal: { code: 'WHD_ERR_REPLAY_CONFLICT', message: `replay ${overlap.id} of this endpoint is active over an overlapping range (${new Date(overlap.since).toISOString()} to ${new Date(overlap.until).toISOString()}): wait for it to finish or cancel it` } }
      }
      const limit = checkTenantLimit(all, request.tenantId, o.maxJobsPerTenant)
      if (limit !== undefined) return { kind: 'refused', refusal: limit }
      const admin = o.kafka.admin()
      await admin.connect()
      try {
        const retention = checkRetention(request.since, await earliestRetained(o.kafka, admin, o.sourceTopics))
        if (retention !== undefined) return { kind: 'refused', refusal: retention }
        const job: ReplayJob = {
          id: `rpl_${randomUUID()}`,
          tenantId: request.tenantId,
          endpointId: request.endpointId,
          since: request.since,
          until: request.until,
          ...(request.eventTypes === undefined ? {} : { eventTypes: request.eventTypes }),
          onlyFailed: request.onlyFailed,
          state: 'running',
          requestedBy: request.requestedBy,
          createdAt: at,
          updatedAt: at,
          ranges: await replayRanges(admin, o.sourceTopics, request.since, request.until),
          counts: { scanned: 0, matched: 0, delivered: 0, failed: 0 }
        }
        await writeReplayJob(o.producer, o.jobsTopic, job, o.compression)
        return { kind: 'created', job }
      } finally {
        await admin.disconnect()
      }
    },

    async get (id) {
      return (await readReplayJobs(o.kafka, o.jobsTopic)).get(id)
    },

    async list (endpointId) {
      return [...(await readReplayJobs(o.kafka, o.jobsTopic)).values()].filter((j) => j.endpointId === endpointId).sort((a, b) => b.createdAt - a.createdAt)
    },

    async cancel (id) {
      const job = (await readReplayJobs(o.kafka, o.jobsTopic)).get(id)
      if (job === undefined || job.state !== 'running') return job
      const at = now()
      const cancelled: ReplayJob = { ...job, state: 'cancelled', reason: 'cancelled', finishedAt: at, updatedAt: at }
      await writeReplayJob(o.producer, o.jobsTopic, cancelled, o.compression)
      return cancelled
    }
  }
}
