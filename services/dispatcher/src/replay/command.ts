import { parseArgs } from 'node:util'
import { hostname } from 'node:os'
import { resolveGroupPlaceholder } from '../config.js'
import { parseInstant } from '../dead-letters/instant.js'
import { ConfigError, exitCodeSummary } from '../errors.js'
import { fromEnvironment, safeUser } from '../redrive/command.js'

/** The replay command line, validated. */
export type ReplayCommand =
  | { action: 'help' }
  | ({ action: 'start', endpointId: string, tenantId: string, since: number, until: number, eventTypes?: string[], onlyFailed: boolean, follow: boolean, by: string } & ReplayEnvironment)
  | ({ action: 'status', id: string, follow: boolean } & ReplayEnvironment)
  | ({ action: 'list', endpointId: string } & ReplayEnvironment)
  | ({ action: 'cancel', id: string } & ReplayEnvironment)

export interface ReplayEnvironment {
  brokers: string[]
  clientId: string
  /** REPLAY_TOPIC, `{group}` resolved. */
  jobsTopic: string
  sourceTopics: string[]
  maxRangeMs: number
  maxJobsPerTenant: number
}

export const replayUsage = `Usage: replay start --endpoint ID --tenant T --since TIME --until TIME [--types a,b] [--only-failed] [--no-follow]
       replay status RPL_ID [--follow]
       replay list --endpoint ID
       replay cancel RPL_ID

Replays a time range of the source topics to one endpoint, as the admin API's
POST /v1/endpoints/{id}/replay does: the same jobs topic (REPLAY_TOPIC), the
same checks (range, retention, an overlapping active replay, the tenant's
limit). The running dispatcher does the work; this command starts, follows,
lists and cancels jobs. A progress line goes to stderr while it follows; the
final state goes to stdout. --tenant must be the endpoint's tenant (the job
delivers only that tenant's events and ends as endpoint-disabled-or-deleted
if the endpoint is not the tenant's, disabled or deleted).

  --since TIME / --until TIME   [since, until) by Kafka record timestamp
  --types a,b                   only these event types (exact or prefix.*)
  --only-failed                 only events not delivered to the endpoint (history)
  --no-follow                   print the job and exit at once
  --follow                      (status) follow until it ends
TIME is ISO-8601 with a zone (2024-06-10T08:30:00Z), a date (UTC midnight),
or epoch milliseconds.

Environment: KAFKA_BROKERS (required), SOURCE_TOPICS, REPLAY_TOPIC
(webhooks.replays.{group}), KAFKA_GROUP_ID, KAFKA_CLIENT_ID,
REPLAY_MAX_RANGE_HOURS, REPLAY_MAX_JOBS_PER_TENANT.

Exit codes: ${exitCodeSummary('replay')}.`

const flags = {
  endpoint: { type: 'string' },
  tenant: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  types: { type: 'string' },
  'only-failed': { type: 'boolean' },
  'no-follow': { type: 'boolean' },
  follow: { type: 'boolean' },
  by: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

function required (value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw new ConfigError(flag, 'is required')
  return value.trim()
}

function instant (value: string | undefined, flag: string): number {
  try {
    return parseInstant(required(value, flag))
  } catch (err) {
    if ((err as { code?: string }).code === ConfigError.code) throw err
    throw new ConfigError(flag, (err as Error).message)
  }
}

/** Parses the replay command line; a {@link ConfigError} names the flag or variable at fault. */
export function parseReplayCommand (argv: readonly string[], env: Record<string, string | undefined>): ReplayCommand {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    const message = (err as Error).message
    throw new ConfigError(/'(-{1,2}[^' =]+)/.exec(message)?.[1] ?? 'arguments', message, { cause: err })
  }
  const { values, positionals } = parsed
  const [action, id, ...extra] = positionals
  if (values.help === true || action === undefined) return { action: 'help' }
  if (extra.length > 0) throw new ConfigError('arguments', `unexpected ${extra.join(' ')}`)
  const environment = (): ReplayEnvironment => {
    const group = fromEnvironment('consumerGroupId', env)
    return {
      brokers: [...fromEnvironment('kafkaBrokers', env)],
      clientId: `${fromEnvironment('kafkaClientId', env)}-replay`,
      jobsTopic: resolveGroupPlaceholder('REPLAY_TOPIC', fromEnvironment('replayTopic', env), group),
      sourceTopics: [...fromEnvironment('sourceTopics', env)],
      maxRangeMs: fromEnvironment('replayMaxRangeHours', env) * 3_600_000,
      maxJobsPerTenant: fromEnvironment('replayMaxJobsPerTenant', env)
    }
  }
  switch (action) {
    case 'start': {
      const types = values.types?.split(',').map((t) => t.trim()).filter((t) => t !== '')
      if (types !== undefined && types.length === 0) throw new ConfigError('--types', 'names no type')
      return {
        action,
        endpointId: required(values.endpoint, '--endpoint'),
        tenantId: required(values.tenant, '--tenant'),
        since: instant(values.since, '--since'),
        until: instant(values.until, '--until'),
        ...(types === undefined ? {} : { eventTypes: types }),
        onlyFailed: values['only-failed'] === true,
        follow: values['no-follow'] !== true,
        by: values.by?.trim() ?? `cli:${safeUser()}@${hostname()}`,
        ...environment()
      }
    }
    case 'status':
      return { action, id: required(id, 'RPL_ID'), follow: values.follow === true, ...environment() }
    case 'cancel':
      return { action, id: required(id, 'RPL_ID'), ...environment() }
    case 'list':
      return { action, endpointId: required(values.endpoint, '--endpoint'), ...environment() }
    default:
      throw new ConfigError('arguments', `unknown action "${action}": start, status, list or cancel`)
  }
}

function parse (argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: true })
}

/** The progress line: state, records scanned of the range, matched, delivered, failed, ETA. */
export function formatReplayProgress (view: { id: string, state: string, progress: { records: number, scanned: number, matched: number, delivered: number, failed: number, eta?: string }, reason?: string }): string {
  const p = view.progress
  const pct = p.records === 0 ? 100 : Math.floor((100 * Math.min(p.scanned, p.records)) / p.records)
  return `replay ${view.id}: ${view.state}${view.reason === undefined ? '' : ` (${view.reason})`}  scanned ${p.scanned}/${p.records} (${pct}%)  matched ${p.matched}  delivered ${p.delivered}  failed ${p.failed}${p.eta === undefined ? '' : `  eta ${p.eta}`}`
}
