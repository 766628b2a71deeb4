import { compressionNames, DEFAULT_KAFKA_COMPRESSION, parseCompressionName, type CompressionName } from '../../events/src/index.js'
import { parseCidr } from './delivery/ssrf/address-policy.js'
import { ConfigError } from './errors.js'
import { parseAdminTokens, type AdminToken } from './admin-tokens.js'
import { parseSecretKeys, type SecretKey } from './subscriptions/crypto.js'

/**
 * Every setting of the dispatcher, read once from the environment at start-up,
 * validated, and frozen. The README's configuration table is generated from
 * {@link configOptions} (`make config-table`), so each option's description and
 * default live here and nowhere else.
 */
export interface DispatcherConfig {
  kafkaBrokers: string[]
  kafkaClientId: string
  kafkaSsl: boolean
  kafkaSslCaFile: string | undefined
  kafkaSslCertFile: string | undefined
  kafkaSslKeyFile: string | undefined
  kafkaSaslMechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512'
  kafkaSaslUsername: string | undefined
  kafkaSaslPassword: string | undefined
  kafkaAllowPlaintextSasl: boolean
  kafkaCompression: CompressionName
  consumerGroupId: string
  sessionTimeoutMs: number
  schemaRegistryUrl: string
  sourceTopics: string[]
  retryTopicSuffix: string
  deadLetterTopic: string
  deadLetterStateTopic: string
  endpointEventsTopic: string
  historyEnabled: boolean
  historyTopic: string
  historyTopicPartitions: number
  historyTopicRetentionHours: number
  historyStore: 'none' | 'sqlite' | 'postgres'
  historySqlitePath: string
  historyPostgresUrl: string | undefined
  historyRetentionDays: number
  historyResponseBodyBytes: number
  replayTopic: string
  replayMaxRangeHours: number
  replayMaxJobsPerTenant: number
  replayMaxInFlight: number
  replayKeepFinishedDays: number
  circuitFailureThreshold: number
  circuitOpenMs: number
  autoDisableAfterHours: number
  topicReplicationFactor: number
  subscriptionsFile: string | undefined
  subscriptionsTopic: string
  subscriptionsTopicPartitions: number
  secretsEncryptionKeys: { keys: SecretKey[], currentId: string }
  subscriptionsAcceptUnsignedRecords: boolean
  adminPort: number
  adminHost: string
  adminTokens: readonly AdminToken[]
  adminTlsCertFile: string | undefined
  adminTlsKeyFile: string | undefined
  adminHeadersTimeoutMs: number
  adminRequestTimeoutMs: number
  adminMaxConnections: number
  adminMaxEndpointsPerTenant: number
  adminTestEventsPerMinute: number
  adminRequestsPerSecond: number
  adminRequestBurst: number
  portalSessionKey: Buffer | undefined
  portalLinkTtlSeconds: number
  portalSessionTtlSeconds: number
  portalSessionsTopic: string
  portalPublicUrl: string | undefined
  maxInFlight: number
  endpointMaxInFlight: number
  partitionWindowRecords: number
  memorySoftLimitMib: number
  retryMaxParkedInMemory: number
  retryMaxParkedTracked: number
  commitIntervalMs: number
  connectTimeoutMs: number
  deliveryTimeoutMs: number
  deliveryMaxPools: number
  retryScheduleMs: number[]
  retryMaxAgeSeconds: number
  retryAfterMaxMs: number
  schemaLookupRetries: number
  handoverWaitMs: number
  shutdownDeadlineMs: number
  httpPort: number
  httpHost: string
  metricsToken: string | undefined
  userAgentVersion: boolean
  ssrfAllowCidrs: string[]
  allowHttp: boolean
  webhookProxyUrl: string | undefined
  logLevel: string
}

type Parser<T> = (raw: string, variable: string) => T

interface OptionSpec<K extends keyof DispatcherConfig> {
  key: K
  variable: string
  description: string
  /** Raw default as it would be written in the environment; undefined = required. */
  defaultValue: string | undefined
  parse: Parser<DispatcherConfig[K]>
}

const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> => (raw, variable) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(variable, `must be an integer, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`)
  return value
}

const text: Parser<string> = (raw, variable) => {
  const value = raw.trim()
  if (value === '') throw new ConfigError(variable, 'must not be empty')
  return value
}

const list: Parser<string[]> = (raw, variable) => {
  const values = raw.split(',').map((v) => v.trim()).filter((v) => v !== '')
  if (values.length === 0) throw new ConfigError(variable, 'must list at least one value (comma-separated)')
  return values
}

const url: Parser<string> = (raw, variable) => {
  try {
    const parsed = new URL(raw.trim())
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)')
    return raw.trim().replace(/\/+$/, '')
  } catch {
    throw new ConfigError(variable, `must be an http(s) URL, got "${raw}"`)
  }
}

// Credentials may sit in the URL's userinfo; the message never repeats the value.
const proxyUrl: Parser<string | undefined> = (raw, variable) => {
  if (raw.trim().toLowerCase() === 'none') return undefined
  let parsed: URL
  try {
    parsed = new URL(raw.trim())
  } catch {
    throw new ConfigError(variable, 'must be an http:// proxy URL (http://[user:password@]host:port) or none')
  }
  if (parsed.protocol !== 'http:' || parsed.pathname !== '/' || parsed.search !== '') {
    throw new ConfigError(variable, 'must be an http:// proxy URL (http://[user:password@]host:port) or none: the tunnel to the endpoint is an HTTP CONNECT, the TLS inside it the dispatcher\'s own')
  }
  return raw.trim()
}

const durationList: Parser<number[]> = (raw, variable) => {
  const values = list(raw, variable).map((v) => integer(1)(v, variable))
  for (let i = 1; i < values.length; i++) {
    if ((values[i] ?? 0) < (values[i - 1] ?? 0)) throw new ConfigError(variable, 'must not decrease')
  }
  return values
}

const boolean: Parser<boolean> = (raw, variable) => {
  const value = raw.trim().toLowerCase()
  if (value === 'true') return true
  if (value === 'false') return false
  throw new ConfigError(variable, `must be true or false, got "${raw}"`)
}

// `none` stands for the empty list: an unset or empty variable means "use the default".
const cidrList: Parser<string[]> = (raw, variable) => {
  if (raw.trim().toLowerCase() === 'none') return []
  return list(raw, variable).map((entry) => {
    try {
      return parseCidr(entry).text
    } catch (err) {
      throw new ConfigError(variable, (err as Error).message)
    }
  })
}

// One of a fixed set of words, case-insensitive.
const oneOf = <T extends string>(values: readonly T[]): Parser<T> => (raw, variable) => {
  const value = raw.trim().toLowerCase()
  if (!(values as readonly string[]).includes(value)) throw new ConfigError(variable, `must be one of ${values.join(', ')}, got "${raw}"`)
  return value as T
}
const saslMechanism = oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const)

// `none` stands for "not set": an empty variable means "use the default".
const optionalPath: Parser<string | undefined> = (raw) => (raw.trim().toLowerCase() === 'none' ? undefined : raw.trim())
const optionalSecret: Parser<string | undefined> = (raw, variable) => {
  const value = raw.trim()
  if (value.toLowerCase() === 'none') return undefined
  // Header-safe (RFC 6750 b64token) and long enough not to be guessed.
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(value)) throw new ConfigError(variable, 'must be a token of letters, digits and -._~+/ (RFC 6750), or none')
  if (value.length < 16) throw new ConfigError(variable, `must be at least 16 characters, got ${value.length}`)
  return value
}
// The key that signs portal links and sessions: shared by every instance.
const optionalSigningKey: Parser<Buffer | undefined> = (raw, variable) => {
  const value = raw.trim()
  if (value.toLowerCase() === 'none') return undefined
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0)
  if (key.length < 32) throw new ConfigError(variable, 'must be the base64 of at least 32 random bytes (openssl rand -base64 32), or none')
  return key
}
const optionalHttpUrl: Parser<string | undefined> = (raw, variable) => {
  const value = raw.trim().replace(/\/+$/, '')
  if (value.toLowerCase() === 'none' || value === '') return undefined
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol) || new URL(value).pathname !== '/') throw new ConfigError(variable, 'must be an http(s) origin such as https://admin.bank.example, or none')
  return value
}
const historyStore = oneOf(['none', 'sqlite', 'postgres'] as const)
// The URL holds a password: errors never echo it.
const optionalUrl: Parser<string | undefined> = (raw, variable) => {
  const value = raw.trim()
  if (value.toLowerCase() === 'none') return undefined
  if (!URL.canParse(value) || !/^postgres(ql)?:$/.test(new URL(value).protocol)) throw new ConfigError(variable, 'must be a postgres:// URL, or none')
  return value
}
const secretKeys: Parser<{ keys: SecretKey[], currentId: string }> = (raw, variable) => parseSecretKeys(raw, variable)
const adminTokens: Parser<readonly AdminToken[]> = (raw, variable) =>
  raw.trim().toLowerCase() === 'none' ? Object.freeze([]) : parseAdminTokens(raw, variable)

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const logLevel: Parser<string> = (raw, variable) => {
  const value = raw.trim().toLowerCase()
  if (!logLevels.includes(value)) throw new ConfigError(variable, `must be one of ${logLevels.join(', ')}, got "${raw}"`)
  return value
}

const compression: Parser<CompressionName> = (raw, variable) => {
  const name = parseCompressionName(raw)
  if (name === undefined) throw new ConfigError(variable, `must be one of ${compressionNames.join(', ')}, got "${raw}"`)
  return name
}

/** The default retry suffix: retry topics per consumer group, so two deployments never share parked items. */
export const RETRY_SUFFIX_PER_GROUP = '.retry.{group}'

// `auto` stands for a default derived from other options in loadConfig.
const AUTO = -1
const autoOr = (parse: Parser<number>): Parser<number> => (raw, variable) => (raw.trim().toLowerCase() === 'auto' ? AUTO : parse(raw, variable))

function option<K extends keyof DispatcherConfig> (spec: OptionSpec<K>): OptionSpec<K> {
  return spec
}

/** The option table, in the order the README shows it. */
export const configOptions = [
  option({ key: 'kafkaBrokers', variable: 'KAFKA_BROKERS', description: 'Kafka bootstrap servers, comma-separated host:port', defaultValue: undefined, parse: list }),
  option({ key: 'kafkaClientId', variable: 'KAFKA_CLIENT_ID', description: 'Kafka client id', defaultValue: 'webhook-dispatcher', parse: text }),
  option({ key: 'kafkaSsl', variable: 'KAFKA_SSL', description: 'Connect to Kafka with TLS (a private CA via NODE_EXTRA_CA_CERTS)', defaultValue: 'false', parse: boolean }),
  option({ key: 'kafkaSslCaFile', variable: 'KAFKA_SSL_CA_FILE', description: 'PEM file of the CA(s) the brokers\' certificates must chain to, for Kafka only (NODE_EXTRA_CA_CERTS would trust them for webhook endpoints too); with KAFKA_SSL; none = the system CAs', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'kafkaSslCertFile', variable: 'KAFKA_SSL_CERT_FILE', description: 'PEM client certificate (chain) the dispatcher presents to brokers that require mutual TLS, with KAFKA_SSL_KEY_FILE and KAFKA_SSL; none = no client certificate', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'kafkaSslKeyFile', variable: 'KAFKA_SSL_KEY_FILE', description: 'PEM private key (unencrypted) of KAFKA_SSL_CERT_FILE; never logged', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'kafkaSaslMechanism', variable: 'KAFKA_SASL_MECHANISM', description: 'Kafka SASL mechanism: none, plain, scram-sha-256 or scram-sha-512', defaultValue: 'none', parse: saslMechanism }),
  option({ key: 'kafkaSaslUsername', variable: 'KAFKA_SASL_USERNAME', description: 'Kafka SASL user name (with KAFKA_SASL_MECHANISM)', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'kafkaSaslPassword', variable: 'KAFKA_SASL_PASSWORD', description: 'Kafka SASL password (with KAFKA_SASL_MECHANISM); never logged', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'kafkaAllowPlaintextSasl', variable: 'KAFKA_ALLOW_PLAINTEXT_SASL', description: 'Allow KAFKA_SASL_MECHANISM without KAFKA_SSL, i.e. the SASL exchange (a PLAIN password in clear) over an unencrypted connection; local tests only. Start-up fails otherwise', defaultValue: 'false', parse: boolean }),
  option({ key: 'kafkaCompression', variable: 'KAFKA_COMPRESSION', description: 'Compression of the records the dispatcher writes (retry, dead-letter, endpoint events, subscriptions): none, gzip, snappy, lz4 or zstd. Every codec is read on every topic whatever this says', defaultValue: DEFAULT_KAFKA_COMPRESSION, parse: compression }),
  option({ key: 'consumerGroupId', variable: 'KAFKA_GROUP_ID', description: 'Consumer group shared by all dispatcher instances', defaultValue: 'webhook-dispatcher', parse: text }),
  option({ key: 'sessionTimeoutMs', variable: 'KAFKA_SESSION_TIMEOUT_MS', description: 'Consumer group session timeout: how soon a crashed member\'s partitions move', defaultValue: '30000', parse: integer(6000, 300_000) }),
  option({ key: 'schemaRegistryUrl', variable: 'SCHEMA_REGISTRY_URL', description: 'Confluent-compatible schema registry base URL (Apicurio: …/apis/ccompat/v7)', defaultValue: undefined, parse: url }),
  option({ key: 'sourceTopics', variable: 'SOURCE_TOPICS', description: 'Source topics written by core banking, comma-separated. Default: one topic carrying every family, so order per account holds across families; with families on several topics (e.g. banking.transactions.v1,banking.accounts.v1,banking.fraud-alerts.v1) order holds within each topic only', defaultValue: 'banking.account-events.v1', parse: list }),
  option({ key: 'retryTopicSuffix', variable: 'RETRY_TOPIC_SUFFIX', description: 'Suffix of each source topic\'s co-partitioned retry topic; `{group}` stands for KAFKA_GROUP_ID, so each deployment (consumer group) has retry topics of its own. `.retry` is the layout before 0.2 (see "Migrating retry topics")', defaultValue: RETRY_SUFFIX_PER_GROUP, parse: text }),
  option({ key: 'deadLetterTopic', variable: 'DEAD_LETTER_TOPIC', description: 'Topic for exhausted deliveries and undecodable records', defaultValue: 'webhooks.dead-letter', parse: text }),
  option({ key: 'deadLetterStateTopic', variable: 'DEAD_LETTER_STATE_TOPIC', description: 'Compacted topic of each dead letter\'s lifecycle (redriven, delivered, dead again) and of running redrives; `{group}` stands for KAFKA_GROUP_ID, so each deployment keeps its own, like its retry topics', defaultValue: 'webhooks.dead-letter-state.{group}', parse: text }),
  option({ key: 'endpointEventsTopic', variable: 'ENDPOINT_EVENTS_TOPIC', description: 'Topic for operational events: endpoint disabled or re-enabled', defaultValue: 'webhooks.endpoint-events', parse: text }),
  option({ key: 'historyEnabled', variable: 'HISTORY_ENABLED', description: 'Write every delivery attempt and outcome to HISTORY_TOPIC (the delivery history, README "Delivery history"); offsets are committed only after the attempts they settle are written', defaultValue: 'true', parse: boolean }),
  option({ key: 'historyTopic', variable: 'HISTORY_TOPIC', description: 'The attempts topic: one Avro record (schemas/delivery-attempt.avsc) per attempt and outcome; `{group}` stands for KAFKA_GROUP_ID, so each deployment has its own', defaultValue: 'webhooks.attempts.{group}', parse: text }),
  option({ key: 'historyTopicPartitions', variable: 'HISTORY_TOPIC_PARTITIONS', description: 'Partitions of the attempts topic when the dispatcher creates it (the indexers of a shared store split them)', defaultValue: '6', parse: integer(1, 1000) }),
  option({ key: 'historyTopicRetentionHours', variable: 'HISTORY_TOPIC_RETENTION_HOURS', description: 'retention.ms of the attempts topic when the dispatcher creates it, in hours; a lost index is rebuilt from what the topic still holds', defaultValue: '168', parse: integer(1, 100_000) }),
  option({ key: 'historyStore', variable: 'HISTORY_STORE', description: 'Where the history is indexed for the admin API\'s history routes: `sqlite` (embedded, one instance), `postgres` (HISTORY_POSTGRES_URL, shared by several instances) or `none` (topic only, no history routes)', defaultValue: 'sqlite', parse: historyStore }),
  option({ key: 'historySqlitePath', variable: 'HISTORY_SQLITE_PATH', description: 'The SQLite index file (HISTORY_STORE=sqlite); rebuilt from the attempts topic when missing', defaultValue: 'history.sqlite', parse: text }),
  option({ key: 'historyPostgresUrl', variable: 'HISTORY_POSTGRES_URL', description: 'PostgreSQL connection URL (postgres://user:password@host:port/db) of the shared index; required with HISTORY_STORE=postgres. Never logged', defaultValue: 'none', parse: optionalUrl }),
  option({ key: 'historyRetentionDays', variable: 'HISTORY_RETENTION_DAYS', description: 'History index rows older than this are pruned', defaultValue: '30', parse: integer(1, 3650) }),
  option({ key: 'historyResponseBodyBytes', variable: 'HISTORY_RESPONSE_BODY_BYTES', description: 'Bytes of each receiver\'s answer kept in the history (0 keeps none; at most 1024). Receivers may echo personal data: opt in knowingly', defaultValue: '0', parse: integer(0, 1024) }),
  option({ key: 'replayTopic', variable: 'REPLAY_TOPIC', description: 'Compacted topic of the replay jobs (request, checkpoints, counters), created if missing; `{group}` stands for KAFKA_GROUP_ID, so each deployment keeps its own', defaultValue: 'webhooks.replays.{group}', parse: text }),
  option({ key: 'replayMaxRangeHours', variable: 'REPLAY_MAX_RANGE_HOURS', description: 'Longest since–until range one replay may cover (longer: 400 WHD_ERR_REPLAY_RANGE)', defaultValue: '168', parse: integer(1, 100_000) }),
  option({ key: 'replayMaxJobsPerTenant', variable: 'REPLAY_MAX_JOBS_PER_TENANT', description: 'Replays of one tenant that may be active at once (more: 409 WHD_ERR_REPLAY_LIMIT)', defaultValue: '2', parse: integer(1, 100) }),
  option({ key: 'replayMaxInFlight', variable: 'REPLAY_MAX_IN_FLIGHT', description: 'Deliveries one replay job runs at once (its own budget, beside MAX_IN_FLIGHT of live traffic; lowered further by the endpoint\'s cap: its own, or ENDPOINT_MAX_IN_FLIGHT)', defaultValue: '4', parse: integer(1, 1000) }),
  option({ key: 'replayKeepFinishedDays', variable: 'REPLAY_KEEP_FINISHED_DAYS', description: 'Days a finished replay (completed or cancelled) stays listed; then its record on REPLAY_TOPIC is deleted (a tombstone) and GET answers 404', defaultValue: '30', parse: integer(1, 3650) }),
  option({ key: 'topicReplicationFactor', variable: 'TOPIC_REPLICATION_FACTOR', description: 'Replication factor of the retry and dead-letter topics the dispatcher creates', defaultValue: '3', parse: integer(1, 32) }),
  option({ key: 'subscriptionsTopic', variable: 'SUBSCRIPTIONS_TOPIC', description: 'Compacted topic holding the subscriptions (source of truth); created if missing', defaultValue: 'webhooks.subscriptions', parse: text }),
  option({ key: 'subscriptionsTopicPartitions', variable: 'SUBSCRIPTIONS_TOPIC_PARTITIONS', description: 'Partitions of the subscriptions topic when the dispatcher creates it', defaultValue: '1', parse: integer(1, 64) }),
  option({ key: 'secretsEncryptionKeys', variable: 'SECRETS_ENCRYPTION_KEYS', description: 'AES-256 keys for secrets at rest: id:base64(32 bytes), comma-separated, current first (older ones only decrypt)', defaultValue: undefined, parse: secretKeys }),
  option({ key: 'subscriptionsAcceptUnsignedRecords', variable: 'SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS', description: 'Migration only: accept subscription records without a MAC (written before 13.2) and rewrite them signed at start; unset, they are quarantined', defaultValue: 'false', parse: boolean }),
  option({ key: 'subscriptionsFile', variable: 'SUBSCRIPTIONS_FILE', description: 'Optional JSON file imported into the subscriptions topic at start-up (idempotent); none = no import', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'adminPort', variable: 'ADMIN_PORT', description: 'Port of the admin API', defaultValue: '8080', parse: integer(0, 65_535) }),
  option({ key: 'adminHost', variable: 'ADMIN_HOST', description: 'Address the admin API binds', defaultValue: '127.0.0.1', parse: text }),
  option({ key: 'adminTokens', variable: 'ADMIN_TOKENS', description: 'Admin API bearer tokens: <sha256-hex-or-token>:<tenant-id or *>, comma-separated (a plain token 24 to 1,024 characters of [A-Za-z0-9-._~+/], a hash 64 hex digits); none = every call refused', defaultValue: 'none', parse: adminTokens }),
  option({ key: 'adminTlsCertFile', variable: 'ADMIN_TLS_CERT_FILE', description: 'PEM certificate (chain) file: the admin API serves HTTPS with it and ADMIN_TLS_KEY_FILE; none = plain HTTP', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'adminTlsKeyFile', variable: 'ADMIN_TLS_KEY_FILE', description: 'PEM private key file of ADMIN_TLS_CERT_FILE; none = plain HTTP', defaultValue: 'none', parse: optionalPath }),
  option({ key: 'adminHeadersTimeoutMs', variable: 'ADMIN_HEADERS_TIMEOUT_MS', description: 'Time an admin client has to send a request\'s headers (then 408 and the connection closes)', defaultValue: '10000', parse: integer(100, 600_000) }),
  option({ key: 'adminRequestTimeoutMs', variable: 'ADMIN_REQUEST_TIMEOUT_MS', description: 'Time an admin client has to send a whole request, and the longest an admin connection may stay silent; at least ADMIN_HEADERS_TIMEOUT_MS and DELIVERY_TIMEOUT_MS (a test event waits that long)', defaultValue: '30000', parse: integer(100, 600_000) }),
  option({ key: 'adminMaxConnections', variable: 'ADMIN_MAX_CONNECTIONS', description: 'Open admin API connections at once; further ones are closed as they arrive', defaultValue: '128', parse: integer(1, 100_000) }),
  option({ key: 'adminMaxEndpointsPerTenant', variable: 'ADMIN_MAX_ENDPOINTS_PER_TENANT', description: 'Endpoints one tenant may create through the admin API (409 WHD_ERR_QUOTA_EXCEEDED)', defaultValue: '20', parse: integer(1, 100_000) }),
  option({ key: 'adminTestEventsPerMinute', variable: 'ADMIN_TEST_EVENTS_PER_MINUTE', description: 'Test events (POST …/test) per tenant and minute, burst as many (429 WHD_ERR_RATE_LIMITED)', defaultValue: '10', parse: integer(1, 10_000) }),
  option({ key: 'adminRequestsPerSecond', variable: 'ADMIN_REQUESTS_PER_SECOND', description: 'Sustained admin requests per second per tenant (all its tokens) or operator token (429 WHD_ERR_RATE_LIMITED)', defaultValue: '20', parse: integer(1, 100_000) }),
  option({ key: 'adminRequestBurst', variable: 'ADMIN_REQUEST_BURST', description: 'Admin requests a tenant or operator token may make at once before ADMIN_REQUESTS_PER_SECOND applies', defaultValue: '100', parse: integer(1, 1_000_000) }),
  option({ key: 'portalSessionKey', variable: 'PORTAL_SESSION_KEY', description: 'Base64 of at least 32 random bytes that sign tenant portal links and sessions; the same on every instance. none = no portal sign-in (POST /v1/portal-sessions answers 404)', defaultValue: 'none', parse: optionalSigningKey }),
  option({ key: 'portalLinkTtlSeconds', variable: 'PORTAL_LINK_TTL_SECONDS', description: 'How long a portal sign-in link stays usable (once)', defaultValue: '600', parse: integer(10, 86_400) }),
  option({ key: 'portalSessionTtlSeconds', variable: 'PORTAL_SESSION_TTL_SECONDS', description: 'How long a portal session lasts after sign-in', defaultValue: '3600', parse: integer(60, 86_400) }),
  option({ key: 'portalSessionsTopic', variable: 'PORTAL_SESSIONS_TOPIC', description: 'Topic of used portal links and revoked sessions, read by every instance (one partition, kept 2 days: longer than any link or session)', defaultValue: 'webhooks.portal-sessions', parse: text }),
  option({ key: 'portalPublicUrl', variable: 'PORTAL_PUBLIC_URL', description: 'Origin the portal links name (https://admin.bank.example); none = the origin the operator\'s request came to', defaultValue: 'none', parse: optionalHttpUrl }),
  option({ key: 'maxInFlight', variable: 'MAX_IN_FLIGHT', description: 'Deliveries in flight at once, over all endpoints', defaultValue: '512', parse: integer(1, 100_000) }),
  option({ key: 'endpointMaxInFlight', variable: 'ENDPOINT_MAX_IN_FLIGHT', description: "Deliveries in flight at once to one endpoint, and the size of the endpoint's own connection pool (each endpoint has one, however many share its host; no per-origin cap, see Architecture)", defaultValue: '64', parse: integer(1, 100_000) }),
  option({ key: 'memorySoftLimitMib', variable: 'MEMORY_SOFT_LIMIT_MIB', description: 'RSS (MiB) past which every thread runs a memory-reducing garbage collection: while it is quiet (≤ 20 attempts and settles a second), at most every 10 s; while it stays above, again once RSS grew by a tenth or a minute passed; 0 = never', defaultValue: '512', parse: integer(0, 1_000_000) }),
  option({ key: 'partitionWindowRecords', variable: 'PARTITION_WINDOW_RECORDS', description: 'Unsettled records held per source partition before its fetch pauses', defaultValue: '2000', parse: integer(1, 1_000_000) }),
  option({ key: 'retryMaxParkedInMemory', variable: 'RETRY_MAX_PARKED_IN_MEMORY', description: 'Parked deliveries per retry partition held with their bytes (about 850 B each); past it, more are held without them (about 75 B each) and read again from the retry partition when they become their account\'s next delivery', defaultValue: '5000', parse: integer(1, 10_000_000) }),
  option({ key: 'retryMaxParkedTracked', variable: 'RETRY_MAX_PARKED_TRACKED', description: 'Parked deliveries per retry partition held at all, with their bytes or without, before it stops reading ahead (what waits unread behind it waits for those to drain)', defaultValue: '100000', parse: integer(1, 100_000_000) }),
  option({ key: 'circuitFailureThreshold', variable: 'CIRCUIT_FAILURE_THRESHOLD', description: 'Consecutive failed attempts that open an endpoint\'s circuit (its deliveries then park at once)', defaultValue: '10', parse: integer(1, 10_000) }),
  option({ key: 'circuitOpenMs', variable: 'CIRCUIT_OPEN_MS', description: 'First open period of a circuit before one probe; doubles per failed probe, up to 10 min', defaultValue: '30000', parse: integer(100, 3_600_000) }),
  option({ key: 'autoDisableAfterHours', variable: 'AUTO_DISABLE_AFTER_HOURS', description: 'Continuous failure after which an endpoint is disabled (5 days)', defaultValue: '120', parse: integer(1, 100_000) }),
  option({ key: 'commitIntervalMs', variable: 'COMMIT_INTERVAL_MS', description: 'How often settled watermarks are committed', defaultValue: '1000', parse: integer(50, 60_000) }),
  option({ key: 'connectTimeoutMs', variable: 'CONNECT_TIMEOUT_MS', description: 'TCP+TLS connect timeout per attempt', defaultValue: '5000', parse: integer(1, 60_000) }),
  option({ key: 'deliveryTimeoutMs', variable: 'DELIVERY_TIMEOUT_MS', description: 'Deadline of a whole attempt, response included', defaultValue: '15000', parse: integer(1, 120_000) }),
  option({ key: 'deliveryMaxPools', variable: 'DELIVERY_MAX_POOLS', description: "Connection pools one instance keeps: one per endpoint (and per TLS material, and per running replay job), sized by the endpoint's cap; past it the least recently used closes after its requests finish, and one unused for 60 s closes anyway. Above the number of endpoints active at once: a pool built again costs new handshakes", defaultValue: '1024', parse: integer(1, 100_000) }),
  option({ key: 'retryScheduleMs', variable: 'RETRY_SCHEDULE_MS', description: 'Retry delays after the first failure, comma-separated; the last repeats', defaultValue: '5000,30000,120000,600000,1800000,3600000,10800000', parse: durationList }),
  option({ key: 'retryMaxAgeSeconds', variable: 'RETRY_MAX_AGE_SECONDS', description: 'Age since the first failure after which a delivery is dead-lettered (72 h)', defaultValue: '259200', parse: integer(1) }),
  option({ key: 'retryAfterMaxMs', variable: 'RETRY_AFTER_MAX_MS', description: 'Upper clamp for a receiver\'s Retry-After', defaultValue: '3600000', parse: integer(0) }),
  option({ key: 'handoverWaitMs', variable: 'HANDOVER_WAIT_MS', description: 'How long a partition\'s new owner waits for the previous owner\'s release marker before taking the partition anyway (a killed or stalled owner). `auto` = KAFKA_SESSION_TIMEOUT_MS + 30000 (a stalled owner stops at its session timeout; a produce it sent before may take up to kafkajs\'s 30 s request timeout to land). Lower is faster after a crash, but a stalled owner may then reorder', defaultValue: 'auto', parse: autoOr(integer(0, 3_600_000)) }),
  option({ key: 'schemaLookupRetries', variable: 'SCHEMA_LOOKUP_RETRIES', description: 'Lookups of an unknown schema id before the record is dead-lettered', defaultValue: '3', parse: integer(0, 100) }),
  option({ key: 'shutdownDeadlineMs', variable: 'SHUTDOWN_DEADLINE_MS', description: 'Time SIGTERM allows in-flight deliveries before the final commit', defaultValue: '20000', parse: integer(0, 600_000) }),
  option({ key: 'httpPort', variable: 'HTTP_PORT', description: 'Port of /healthz, /readyz and /metrics', defaultValue: '9464', parse: integer(0, 65_535) }),
  option({ key: 'httpHost', variable: 'HTTP_HOST', description: 'Address the health and metrics server binds (0.0.0.0: every interface, as probes and Prometheus need in a pod; 127.0.0.1 keeps /metrics on the host)', defaultValue: '0.0.0.0', parse: text }),
  option({ key: 'metricsToken', variable: 'METRICS_TOKEN', description: 'Bearer token GET /metrics then requires (Authorization: Bearer <token>, else 401); /healthz and /readyz stay open. none = /metrics open to whoever reaches HTTP_HOST:HTTP_PORT', defaultValue: 'none', parse: optionalSecret }),
  option({ key: 'userAgentVersion', variable: 'USER_AGENT_VERSION', description: 'Send the dispatcher\'s version in the User-Agent of webhooks (webhook-dispatcher/<version>); false sends webhook-dispatcher alone, so receivers cannot tell which release (and its known bugs) calls them', defaultValue: 'true', parse: boolean }),
  option({ key: 'ssrfAllowCidrs', variable: 'SSRF_ALLOW_CIDRS', description: 'CIDR blocks endpoints may reach although private, loopback or otherwise special (comma-separated; development and tests only)', defaultValue: 'none', parse: cidrList }),
  option({ key: 'allowHttp', variable: 'ALLOW_HTTP', description: 'Accept http:// endpoint URLs as well as https:// (development and tests only)', defaultValue: 'false', parse: boolean }),
  option({ key: 'webhookProxyUrl', variable: 'WEBHOOK_PROXY_URL', description: 'HTTP CONNECT proxy every webhook goes through, http://[user:password@]host:port (webhooks only: Kafka and the registry connect directly). The SSRF policy still judges each endpoint: the dispatcher resolves its name and asks the proxy for a tunnel to the approved address, then runs TLS to the endpoint through it. none = direct connections', defaultValue: 'none', parse: proxyUrl }),
  option({ key: 'logLevel', variable: 'LOG_LEVEL', description: 'pino log level', defaultValue: 'info', parse: logLevel })
] as const

/**
 * Reads and validates the configuration. Throws a {@link ConfigError} naming
 * the first variable that is missing or invalid.
 */
export function loadConfig (env: Record<string, string | undefined> = process.env): Readonly<DispatcherConfig> {
  const config: Partial<Record<keyof DispatcherConfig, unknown>> = {}
  for (const spec of configOptions) {
    const raw = env[spec.variable] ?? spec.defaultValue
    if (raw === undefined || raw.trim() === '') {
      throw new ConfigError(spec.variable, `is required: ${spec.description}`)
    }
    config[spec.key] = spec.parse(raw, spec.variable)
  }
  const result = config as DispatcherConfig
  result.retryTopicSuffix = resolveRetryTopicSuffix(result.retryTopicSuffix, result.consumerGroupId)
  result.deadLetterStateTopic = resolveStateTopic(result.deadLetterStateTopic, result.consumerGroupId)
  result.historyTopic = resolveGroupPlaceholder('HISTORY_TOPIC', result.historyTopic, result.consumerGroupId)
  result.replayTopic = resolveGroupPlaceholder('REPLAY_TOPIC', result.replayTopic, result.consumerGroupId)
  if (result.historyStore === 'postgres' && result.historyPostgresUrl === undefined) {
    throw new ConfigError('HISTORY_POSTGRES_URL', 'is required with HISTORY_STORE=postgres')
  }
  if (result.historyStore !== 'none' && !result.historyEnabled) {
    throw new ConfigError('HISTORY_STORE', `must be none with HISTORY_ENABLED=false (there is no attempts topic to index), got ${result.historyStore}`)
  }
  if (result.handoverWaitMs === AUTO) result.handoverWaitMs = result.sessionTimeoutMs + 30_000
  for (const topic of result.sourceTopics) {
    if (topic.endsWith(result.retryTopicSuffix)) {
      throw new ConfigError('SOURCE_TOPICS', `"${topic}" ends with the retry suffix "${result.retryTopicSuffix}"`)
    }
    if (topic === result.deadLetterTopic || topic === result.deadLetterStateTopic || topic === result.endpointEventsTopic || topic === result.subscriptionsTopic || topic === result.historyTopic || topic === result.replayTopic) {
      throw new ConfigError('SOURCE_TOPICS', `"${topic}" is also DEAD_LETTER_TOPIC or ENDPOINT_EVENTS_TOPIC`)
    }
  }
  if (result.kafkaSaslMechanism !== 'none' && (result.kafkaSaslUsername === undefined || result.kafkaSaslPassword === undefined)) {
    throw new ConfigError(result.kafkaSaslUsername === undefined ? 'KAFKA_SASL_USERNAME' : 'KAFKA_SASL_PASSWORD', `is required with KAFKA_SASL_MECHANISM=${result.kafkaSaslMechanism}`)
  }
  // SASL/PLAIN sends the password itself, and SCRAM a proof an eavesdropper can
  // brute-force offline, in every connection's handshake: without TLS anyone on
  // the path reads them (RFC 4616 §6, RFC 5802 §9).
  if (result.kafkaSaslMechanism !== 'none' && !result.kafkaSsl && !result.kafkaAllowPlaintextSasl) {
    throw new ConfigError('KAFKA_SASL_MECHANISM', `${result.kafkaSaslMechanism} needs KAFKA_SSL=true: without TLS the Kafka credentials cross the network readable (set KAFKA_ALLOW_PLAINTEXT_SASL=true for a local test broker only)`)
  }
  if ((result.kafkaSslCertFile === undefined) !== (result.kafkaSslKeyFile === undefined)) {
    throw new ConfigError(result.kafkaSslCertFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE', 'is required with the other of KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE')
  }
  for (const [variable, file] of [['KAFKA_SSL_CA_FILE', result.kafkaSslCaFile], ['KAFKA_SSL_CERT_FILE', result.kafkaSslCertFile]] as const) {
    if (file !== undefined && !result.kafkaSsl) throw new ConfigError(variable, 'needs KAFKA_SSL=true: it applies to TLS connections only')
  }
  if ((result.adminTlsCertFile === undefined) !== (result.adminTlsKeyFile === undefined)) {
    throw new ConfigError(result.adminTlsCertFile === undefined ? 'ADMIN_TLS_CERT_FILE' : 'ADMIN_TLS_KEY_FILE', 'is required with the other of ADMIN_TLS_CERT_FILE and ADMIN_TLS_KEY_FILE')
  }
  if (result.adminHeadersTimeoutMs > result.adminRequestTimeoutMs) {
    throw new ConfigError('ADMIN_HEADERS_TIMEOUT_MS', `must not exceed ADMIN_REQUEST_TIMEOUT_MS (${result.adminRequestTimeoutMs})`)
  }
  // A test event keeps its connection silent for up to one delivery attempt.
  if (result.adminRequestTimeoutMs < result.deliveryTimeoutMs) {
    throw new ConfigError('ADMIN_REQUEST_TIMEOUT_MS', `must be at least DELIVERY_TIMEOUT_MS (${result.deliveryTimeoutMs}): a test event waits that long for the endpoint`)
  }
  if (result.endpointMaxInFlight > result.maxInFlight) {
    throw new ConfigError('ENDPOINT_MAX_IN_FLIGHT', `must not exceed MAX_IN_FLIGHT (${result.maxInFlight})`)
  }
  if (result.deliveryTimeoutMs < result.connectTimeoutMs) {
    throw new ConfigError('DELIVERY_TIMEOUT_MS', `must be at least CONNECT_TIMEOUT_MS (${result.connectTimeoutMs})`)
  }
  return Object.freeze({ ...result, kafkaBrokers: Object.freeze([...result.kafkaBrokers]), ssrfAllowCidrs: Object.freeze([...result.ssrfAllowCidrs]), sourceTopics: Object.freeze([...result.sourceTopics]), retryScheduleMs: Object.freeze([...result.retryScheduleMs]) }) as Readonly<DispatcherConfig>
}

// Kafka's rule for topic names.
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/

/**
 * RETRY_TOPIC_SUFFIX with `{group}` replaced by the consumer group id. The
 * retry topics hold a group's own parked items and handover markers: a second
 * deployment with its own group id (blue/green, staging reading production
 * topics, a replay group) reading them would deliver the first one's parked
 * items again, out of order.
 */
export function resolveRetryTopicSuffix (suffix: string, groupId: string): string {
  const resolved = suffix.replaceAll('{group}', groupId)
  if (!TOPIC_NAME.test(`t${resolved}`)) {
    const why = resolved === suffix ? '' : ` (KAFKA_GROUP_ID "${groupId}" replaced {group})`
    throw new ConfigError('RETRY_TOPIC_SUFFIX', `"${resolved}"${why} cannot be part of a topic name: use letters, digits, '.', '_' and '-'`)
  }
  return resolved
}

/** A topic name with `{group}` replaced by the consumer group id. */
export function resolveGroupPlaceholder (variable: string, name: string, groupId: string): string {
  const resolved = name.replaceAll('{group}', groupId)
  if (!TOPIC_NAME.test(resolved)) {
    const why = resolved === name ? '' : ` (KAFKA_GROUP_ID "${groupId}" replaced {group})`
    throw new ConfigError(variable, `"${resolved}"${why} is not a topic name: use letters, digits, '.', '_' and '-'`)
  }
  return resolved
}

/** DEAD_LETTER_STATE_TOPIC with `{group}` replaced by the consumer group id, checked as a topic name. */
export function resolveStateTopic (topic: string, groupId: string): string {
  return resolveGroupPlaceholder('DEAD_LETTER_STATE_TOPIC', topic, groupId)
}

/** The retry topic of a source topic. */
export function retryTopicOf (config: Pick<DispatcherConfig, 'retryTopicSuffix'>, sourceTopic: string): string {
  return `${sourceTopic}${config.retryTopicSuffix}`
}
