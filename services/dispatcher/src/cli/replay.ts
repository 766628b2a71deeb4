/**
 * replay: starts, follows, lists and cancels replay jobs on the jobs topic
 * (`--help` lists the actions and flags), for operators without the admin
 * API. The running dispatcher does the work; this command writes the job
 * and follows its progress (a line on stderr) until it ends.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 node dist/services/dispatcher/src/cli/replay.js start --endpoint ep-1 --tenant t-1 --since 2026-12-01T09:00Z --until 2026-12-02
 *
 * Exit codes: `exitCodes.replay` in ../errors.ts (printed by --help and
 * tabled in the README).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { quietKafkajsTimerWarning, registerKafkaCodecs } from '../../../events/src/index.js'
import { replayView, type ReplayJob, type ReplayOperations } from '../engine/replay-job.js'
import { exitCode } from '../errors.js'
import { formatReplayProgress, parseReplayCommand, replayUsage, type ReplayCommand } from '../replay/command.js'
import { createReplayOperations } from '../replay/operations.js'

const out = (line: string): void => { process.stdout.write(`${line}\n`) }
const err = (line: string): void => { process.stderr.write(`${line}\n`) }
const FOLLOW_MS = 2_000

type View = ReturnType<typeof replayView> & Parameters<typeof formatReplayProgress>[0]
const view = (job: ReplayJob): View => replayView(job, Date.now()) as View

async function follow (ops: ReplayOperations, id: string, signal: AbortSignal): Promise<ReplayJob | undefined> {
  let last = ''
  for (;;) {
    const job = await ops.get(id)
    if (job === undefined) return undefined
    const line = formatReplayProgress(view(job))
    // A terminal rewrites one line; a log gets a line per change.
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`)
    else if (line !== last) err(line)
    last = line
    if (job.state !== 'running' || signal.aborted) {
      if (process.stderr.isTTY) process.stderr.write('\n')
      return job
    }
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS))
  }
}

async function main (argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let command: ReplayCommand
  try {
    command = parseReplayCommand(argv, env)
  } catch (error) {
    const e = error as { code?: string, message?: string }
    if (e.code !== 'WHD_ERR_CONFIG') throw error
    err(`replay: ${e.message ?? String(error)}`)
    err('Run with --help for usage.')
    return exitCode('replay', 'bad flags')
  }
  if (command.action === 'help') {
    out(replayUsage)
    return exitCode('replay', 'done')
  }
  registerKafkaCodecs()
  const kafka = new Kafka({ brokers: command.brokers, clientId: command.clientId, logLevel: logLevel.ERROR, logCreator: () => ({ namespace, log }) => err(`kafkajs ${namespace}: ${log.message}`) })
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
  const controller = new AbortController()
  const interrupt = (): void => { controller.abort() }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    await producer.connect()
    const ops = createReplayOperations({ kafka, producer, jobsTopic: command.jobsTopic, sourceTopics: command.sourceTopics, maxRangeMs: command.maxRangeMs, maxJobsPerTenant: command.maxJobsPerTenant })
    const finish = async (job: ReplayJob | undefined, following: boolean): Promise<number> => {
      if (job === undefined) {
        err('replay: no such job')
        return exitCode('replay', 'the job ended cancelled')
      }
      const ended = following ? await follow(ops, job.id, controller.signal) : job
      if (ended === undefined) return exitCode('replay', 'the job ended cancelled')
      out(JSON.stringify(view(ended)))
      if (controller.signal.aborted && ended.state === 'running') return exitCode('replay', 'interrupted')
      return ended.state === 'cancelled' ? exitCode('replay', 'the job ended cancelled') : exitCode('replay', 'done')
    }
    switch (command.action) {
      case 'start': {
        const result = await ops.create({
          tenantId: command.tenantId, endpointId: command.endpointId, since: command.since, until: command.until,
          ...(command.eventTypes === undefined ? {} : { eventTypes: command.eventTypes }), onlyFailed: command.onlyFailed, requestedBy: command.by
        })
        if (result.kind === 'refused') {
          err(`replay refused [${result.refusal.code}]: ${result.refusal.message}`)
          return exitCode('replay', 'refused')
        }
        err(`replay ${result.job.id} started`)
        return await finish(result.job, command.follow)
      }
      case 'status':
        return await finish(await ops.get(command.id), command.follow)
      case 'cancel':
        return await finish(await ops.cancel(command.id), false)
      case 'list':
        for (const job of await ops.list(command.endpointId)) out(JSON.stringify(view(job)))
        return exitCode('replay', 'done')
    }
  } catch (error) {
    const e = error as { code?: string, name?: string, message?: string }
    const tag = e.code ?? e.name
    err(`replay failed${tag === undefined ? '' : ` [${tag}]`}: ${e.message ?? String(error)}`)
    return exitCode('replay', 'Kafka error')
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
    await producer.disconnect().catch(() => undefined)
  }
}

quietKafkajsTimerWarning()
process.exitCode = await main(process.argv.slice(2), process.env)
