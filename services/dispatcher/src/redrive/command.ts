import { parseArgs } from 'node:util'
import { DEFAULT_KAFKA_COMPRESSION, type CompressionName } from '../../../events/src/index.js'
import { hostname, userInfo } from 'node:os'
import { configOptions, resolveRetryTopicSuffix, resolveStateTopic, type DispatcherConfig } from '../config.js'
import { ConfigError, exitCodeSummary } from '../errors.js'
import type { RedriveFilter } from '../dead-letters/filter.js'
import { parseInstant } from '../dead-letters/instant.js'

/** The redrive command line, validated. */
export interface RedriveCommand {
  /** `--help`: print {@link redriveUsage} and do nothing else. */
  help: boolean
  brokers: string[]
  clientId: string
  deadLetterTopic: string
  /** DEAD_LETTER_STATE_TOPIC, `{group}` resolved. */
  stateTopic: string
  retryTopicSuffix: string
  /** KAFKA_COMPRESSION: the codec of the retry records it writes. */
  compression: CompressionName
  filter: RedriveFilter
  dryRun: boolean
  /** `--again`: redrive letters redriven before as well. */
  again: boolean
  /** `--by`, or `cli:<user>@<host>`: recorded with each redriven letter. */
  by: string
  /** `--group-id`; undefined = a throwaway group. */
  groupId?: string
}

export const redriveUsage = `Usage: redrive [filters] [--dry-run] [--again] [--by WHO] [--group-id G]

Moves dead letters back into the retry lane of their source partition, with a
fresh retry budget. Scans the dead-letter topic from the beginning up to its
end at start; never commits offsets. Each redriven letter is recorded as
redriven (when, by whom, which redrive) on DEAD_LETTER_STATE_TOPIC, and a
letter redriven before is skipped (already-redriven) unless --again: running
the same redrive twice sends nothing twice. A redrive over letters that
overlap a redrive running elsewhere (CLI or admin API) is refused (exit 3).

Filters (all that are given must hold; repeat a flag to allow several values):
  --subscription ID    subscription id (whd-subscription-id)
  --account ID         account id (the record key)
  --from TIME          dead-lettered at or after TIME (inclusive)
  --to TIME            dead-lettered before TIME (exclusive)
  --reason R           dead-letter reason, e.g. retries-exhausted, endpoint-gone
  --source-topic T     source topic
TIME is ISO-8601 with a zone (2024-06-10T08:30:00Z), a date (UTC midnight),
or epoch milliseconds.

Options:
  --dry-run            write nothing; print what would be redriven
  --again              redrive letters redriven before as well
  --by WHO             recorded as who redrove (default: cli:<user>@<host>)
  --group-id G         consumer group for the scan (default: a throwaway
                       whd-redrive-<uuid>); never the dispatcher's group
  -h, --help           this text

Environment: KAFKA_BROKERS (required), DEAD_LETTER_TOPIC (webhooks.dead-letter),
DEAD_LETTER_STATE_TOPIC (webhooks.dead-letter-state.{group}),
RETRY_TOPIC_SUFFIX (.retry.{group}), KAFKA_CLIENT_ID, KAFKA_GROUP_ID (the
dispatcher's group: names its retry and state topics; refused as --group-id).

Exit codes: ${exitCodeSummary('redrive')}.`

const flags = {
  subscription: { type: 'string', multiple: true },
  account: { type: 'string', multiple: true },
  from: { type: 'string' },
  to: { type: 'string' },
  reason: { type: 'string', multiple: true },
  'source-topic': { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  again: { type: 'boolean' },
  by: { type: 'string' },
  'group-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

/**
 * Parses the redrive command line and the environment it reads. Throws a
 * {@link ConfigError} whose `variable` is the offending flag (`--from`) or
 * environment variable (`KAFKA_BROKERS`).
 */
export function parseRedriveCommand (argv: readonly string[], env: Record<string, string | undefined>): RedriveCommand {
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(argv).values
  } catch (err) {
    // node:util names the flag in its message: "Unknown option '--bogus'".
    const message = (err as Error).message
    const flag = /'(-{1,2}[^' =]+)/.exec(message)?.[1] ?? 'arguments'
    throw new ConfigError(flag, message, { cause: err })
  }
  const help = values.help === true
  const filter: RedriveFilter = {}
  const list = (flag: string, given: string[] | undefined): string[] | undefined => {
    if (given === undefined) return undefined
    for (const value of given) {
      if (value.trim() === '') throw new ConfigError(`--${flag}`, 'must not be empty')
    }
    return [...new Set(given.map((v) => v.trim()))]
  }
  const subscriptionIds = list('subscription', values.subscription)
  if (subscriptionIds !== undefined) filter.subscriptionIds = subscriptionIds
  const accountIds = list('account', values.account)
  if (accountIds !== undefined) filter.accountIds = accountIds
  const reasons = list('reason', values.reason)
  if (reasons !== undefined) filter.reasons = reasons
  const sourceTopics = list('source-topic', values['source-topic'])
  if (sourceTopics !== undefined) filter.sourceTopics = sourceTopics
  for (const flag of ['from', 'to'] as const) {
    const raw = values[flag]
    if (raw === undefined) continue
    try {
      filter[flag] = parseInstant(raw)
    } catch (err) {
      throw new ConfigError(`--${flag}`, (err as Error).message)
    }
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) {
    throw new ConfigError('--to', `must be later than --from (${new Date(filter.from).toISOString()}); the range is [from, to)`)
  }
  const groupId = values['group-id']
  if (groupId !== undefined && groupId.trim() === '') throw new ConfigError('--group-id', 'must not be empty')

  const command: RedriveCommand = {
    help,
    brokers: [],
    clientId: '',
    deadLetterTopic: '',
    stateTopic: '',
    retryTopicSuffix: '',
    compression: DEFAULT_KAFKA_COMPRESSION,
    filter,
    dryRun: values['dry-run'] === true,
    again: values.again === true,
    by: values.by?.trim() ?? `cli:${safeUser()}@${hostname()}`
  }
  if (command.by === '') throw new ConfigError('--by', 'must not be empty')
  if (groupId !== undefined) command.groupId = groupId.trim()
  if (help) return command

  command.brokers = [...fromEnvironment('kafkaBrokers', env)]
  command.clientId = `${fromEnvironment('kafkaClientId', env)}-redrive`
  command.deadLetterTopic = fromEnvironment('deadLetterTopic', env)
  command.retryTopicSuffix = resolveRetryTopicSuffix(fromEnvironment('retryTopicSuffix', env), fromEnvironment('consumerGroupId', env))
  command.stateTopic = resolveStateTopic(fromEnvironment('deadLetterStateTopic', env), fromEnvironment('consumerGroupId', env))
  command.compression = fromEnvironment('kafkaCompression', env)
  if (command.groupId !== undefined && command.groupId === fromEnvironment('consumerGroupId', env)) {
    // Joining the dispatcher's group would rebalance every instance and take
    // partitions away from them.
    throw new ConfigError('--group-id', `"${command.groupId}" is the dispatcher's consumer group (KAFKA_GROUP_ID); use a group of its own`)
  }
  return command
}

// userInfo throws where the uid has no passwd entry (some containers).
export function safeUser (): string {
  try {
    return userInfo().username
  } catch {
    return String(process.getuid?.() ?? 'unknown')
  }
}

function parse (argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false })
}

// The variables the redrive shares with the dispatcher are validated and
// defaulted exactly as the dispatcher does, from the one option table.
export function fromEnvironment<K extends keyof DispatcherConfig> (key: K, env: Record<string, string | undefined>): DispatcherConfig[K] {
  const spec = configOptions.find((option) => option.key === key) as unknown as {
    variable: string
    description: string
    defaultValue: string | undefined
    parse: (raw: string, variable: string) => DispatcherConfig[K]
  }
  const raw = env[spec.variable] ?? spec.defaultValue
  if (raw === undefined || raw.trim() === '') throw new ConfigError(spec.variable, `is required: ${spec.description}`)
  return spec.parse(raw, spec.variable)
}
