/**
 * redrive: moves dead letters back into the retry lane of their source
 * partition, filtered by subscription, account, dead-letter time, reason and
 * source topic (`--help` lists the flags). Progress goes to stderr; one line
 * per selected dead letter and the summary go to stdout.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 node dist/services/dispatcher/src/cli/redrive.js --account acc-000001 --dry-run
 *
 * Exit codes: `exitCodes.redrive` in ../errors.ts (printed by --help and
 * tabled in the README).
 *
 * The work is done by `redrive()` in ../redrive/run.ts, which the admin API
 * can call as well; this file only wires the command line to it.
 */
import { Kafka, logLevel } from 'kafkajs'
import { kafkaCompressionType, quietKafkajsTimerWarning, registerKafkaCodecs } from '../../../events/src/index.js'
import { exitCode, RedriveConflictError } from '../errors.js'
import { parseRedriveCommand, redriveUsage, type RedriveCommand } from '../redrive/command.js'
import { formatProgress, formatRecord, formatSummary } from '../redrive/format.js'
import { redrive } from '../redrive/run.js'

const out = (line: string): void => { process.stdout.write(`${line}\n`) }
const err = (line: string): void => { process.stderr.write(`${line}\n`) }

async function main (argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let command: RedriveCommand
  try {
    command = parseRedriveCommand(argv, env)
  } catch (error) {
    const e = error as { code?: string, message?: string }
    if (e.code !== 'WHD_ERR_CONFIG') throw error
    err(`redrive: ${e.message ?? String(error)}`)
    err('Run with --help for usage.')
    return exitCode('redrive', 'bad flags')
  }
  if (command.help) {
    out(redriveUsage)
    return exitCode('redrive', 'done')
  }

  registerKafkaCodecs()
  const kafka = new Kafka({
    brokers: command.brokers,
    clientId: command.clientId,
    logLevel: logLevel.ERROR,
    logCreator: () => ({ namespace, log }) => err(`kafkajs ${namespace}: ${log.message}`)
  })
  const controller = new AbortController()
  const interrupt = (): void => {
    err('redrive: interrupted; stopping after the batch at hand')
    controller.abort()
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const result = await redrive({
      kafka,
      deadLetterTopic: command.deadLetterTopic,
      stateTopic: command.stateTopic,
      again: command.again,
      by: command.by,
      retryTopicSuffix: command.retryTopicSuffix,
      compression: kafkaCompressionType(command.compression),
      filter: command.filter,
      dryRun: command.dryRun,
      ...(command.groupId === undefined ? {} : { groupId: command.groupId }),
      signal: controller.signal,
      onProgress: (progress) => err(formatProgress(progress)),
      onRecord: (event) => out(formatRecord(event))
    })
    out(formatSummary(result))
    return exitCode('redrive', result.complete ? 'done' : 'interrupted')
  } catch (error) {
    const e = error as { code?: string, name?: string, message?: string }
    const tag = e.code ?? e.name
    err(`redrive failed${tag === undefined ? '' : ` [${tag}]`}: ${e.message ?? String(error)}`)
    return exitCode('redrive', e.code === RedriveConflictError.code ? 'an overlapping redrive' : 'Kafka error')
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
  }
}

quietKafkajsTimerWarning()
process.exitCode = await main(process.argv.slice(2), process.env)
