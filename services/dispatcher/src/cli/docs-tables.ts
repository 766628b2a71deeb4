// The README's tables that must not drift from the code: the error codes
// (every registry: the dispatcher's errors, the admin API's codes, the events
// module's and the producer's), the exit codes of the dispatcher and its
// command lines, and the metric families. The code says which codes, exit
// codes and metrics exist; the prose of each row lives here, beside them.
// `make docs` writes the tables into the README; a unit test fails while the
// README differs (test/unit/dispatcher/docs-tables.test.ts).

import { exitCodes, type ExitCode } from '../errors.js'

/** One row of the error-code table: codes that share a meaning, where they occur, what they mean, what to do. */
export interface ErrorDoc {
  codes: readonly string[]
  where: string
  meaning: string
  action: string
}

/** Every error code, in the README's order. */
export const errorDocs: readonly ErrorDoc[] = Object.freeze([
  { codes: ['WHD_ERR_CONFIG'], where: 'start-up', meaning: 'a variable is missing or invalid (named in the message)', action: 'fix the variable' },
  { codes: ['WHD_ERR_TOPIC_LAYOUT'], where: 'start-up', meaning: 'a source topic is missing, or a retry topic\'s partition count differs (topic named)', action: 'create the topic / align partition counts' },
  { codes: ['WHD_ERR_SUBSCRIPTIONS'], where: 'start-up', meaning: 'the subscriptions file is unreadable or invalid, or a record on the subscriptions topic breaks the subscription schema, e.g. a tenant id the admin API cannot address (entry or record, and field named)', action: 'fix the file / rewrite the record' },
  { codes: ['WHD_ERR_DECODE'], where: 'runtime', meaning: 'a source record is not a banking event; it is dead-lettered with the reason', action: 'fix the producer; the letter keeps the raw bytes' },
  { codes: ['WHD_ERR_REGISTRY_UNAVAILABLE'], where: 'runtime', meaning: 'the registry cannot be reached; the partition pauses and resumes', action: 'restore the registry; nothing is lost' },
  { codes: ['WHD_ERR_SHUTDOWN_TIMEOUT'], where: 'shutdown', meaning: 'shutdown (drain, commit, leaving the group) outlasted `SHUTDOWN_DEADLINE_MS` + 4 s; the process exits 1 and unsettled deliveries are redelivered', action: 'find the hanging step in the log; raise `SHUTDOWN_DEADLINE_MS`' },
  { codes: ['WHD_ERR_SSRF_BLOCKED'], where: 'delivery', meaning: 'the endpoint\'s address is private/loopback/reserved; the attempt fails and retries', action: 'fix the endpoint URL or DNS' },
  { codes: ['WHD_ERR_URL_INVALID'], where: 'admin API (400, field `url`), start-up', meaning: 'an endpoint URL is empty, longer than 2048 characters, holds whitespace, is not an absolute `https://` URL (unless `ALLOW_HTTP`), or carries a user/password: the admin API refuses the write with 400 naming the field; the subscriptions file import refuses the entry at start-up', action: 'fix the URL' },
  { codes: ['WHD_ERR_SECRET_KEY'], where: 'subscriptions', meaning: 'a subscriptions record\'s MAC or secret names a key id missing from `SECRETS_ENCRYPTION_KEYS`, or a secret does not decrypt; the endpoint is quarantined (the instance starts)', action: 'add the missing key id and restart (see *Operations*: a quarantined endpoint)' },
  { codes: ['WHD_ERR_RECORD_INTEGRITY'], where: 'subscriptions', meaning: 'a subscriptions record\'s MAC does not verify (`reason` `mac-mismatch`: written or changed without the keys; refused, the endpoint keeps its state) or it has none (`unsigned`: written before MACs; the endpoint is quarantined)', action: 'find who writes to the topic; for `unsigned`, migrate with `SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS`' },
  { codes: ['WHD_ERR_QUARANTINE_CONFLICT'], where: 'subscriptions', meaning: 'a write to a quarantined endpoint; the admin API answers 409 `WHD_ERR_CONFLICT`', action: 'make its record readable, or delete and recreate it' },
  { codes: ['WHD_ERR_STORE_UNAVAILABLE'], where: 'subscriptions', meaning: 'the subscription store cannot write or read back now; the admin API answers `WHD_ERR_UNAVAILABLE`', action: 'retry' },
  { codes: ['WHD_ERR_HISTORY_UNAVAILABLE'], where: 'admin API (history queries)', meaning: 'the thread that answers the history routes from the SQLite index exited, most likely a query past its heap limit (an eighth of the memory limit); the admin API answers `WHD_ERR_UNAVAILABLE` and the next query starts the thread again; deliveries go on', action: 'retry; narrow the query (a shorter window, a smaller page)' },
  { codes: ['WHD_ERR_UNAVAILABLE'], where: 'admin API (503)', meaning: 'a dependency (the subscription store, Kafka) is unavailable now', action: 'retry' },
  { codes: ['WHD_ERR_INTERNAL'], where: 'admin API (500)', meaning: 'an unexpected error; logged with the request id, never detailed in the answer', action: 'report it with the log line' },
  { codes: ['WHD_ERR_VALIDATION', 'WHD_ERR_BAD_REQUEST'], where: 'admin API (400)', meaning: 'invalid input; `field` names it', action: 'fix the request' },
  { codes: ['WHD_ERR_UNAUTHORIZED'], where: 'admin API (401)', meaning: 'missing or unknown bearer token', action: 'use a token from `ADMIN_TOKENS`' },
  { codes: ['WHD_ERR_FORBIDDEN'], where: 'admin API (403)', meaning: 'a tenant token acting for another tenant; a portal call without the `x-portal-request` header or from another origin (CSRF guard); a portal session minting or revoking another session', action: 'use that tenant\'s token; call from the portal' },
  { codes: ['WHD_ERR_PORTAL_LINK_INVALID', 'WHD_ERR_PORTAL_LINK_EXPIRED', 'WHD_ERR_PORTAL_LINK_USED', 'WHD_ERR_PORTAL_LINK_REVOKED'], where: 'admin API (401), portal sign-in', meaning: 'a portal sign-in link that is forged or damaged, older than `PORTAL_LINK_TTL_SECONDS`, already used once, or revoked; no session is set', action: 'mint a new link (`POST /v1/portal-sessions`)' },
  { codes: ['WHD_ERR_PORTAL_SESSION_ENDED'], where: 'admin API (401), portal', meaning: 'the portal session cookie has expired (`PORTAL_SESSION_TTL_SECONDS`), was revoked, or was not signed with `PORTAL_SESSION_KEY`', action: 'sign in again with a new link' },
  { codes: ['WHD_ERR_NOT_FOUND'], where: 'admin API (404)', meaning: 'no such endpoint in the token\'s scope', action: '—' },
  { codes: ['WHD_ERR_CONFLICT'], where: 'admin API (409)', meaning: 'the endpoint is quarantined (only DELETE is allowed)', action: 'see *Operations*: a quarantined endpoint' },
  { codes: ['WHD_ERR_GONE'], where: 'admin API (410)', meaning: '`GET /v1/events/{eventId}/payload` or `POST …/resend`: Kafka retention has removed the event\'s source record; its delivery history remains', action: 'none: the history keeps no copy of payloads by design' },
  { codes: ['WHD_ERR_ENDPOINT_INACTIVE'], where: 'admin API (409)', meaning: 'a resend or replay to an endpoint that is paused or disabled (for a resend without `endpointId`: every endpoint of the event is); nothing was sent or started', action: 'resume or enable the endpoint first' },
  { codes: ['WHD_ERR_ENDPOINT_MISMATCH'], where: 'admin API (409)', meaning: 'a resend to an endpoint of another tenant than the event\'s (operator token), or one whose `eventTypes` do not take the event; or none of the event\'s endpoints exists any more', action: 'name an endpoint of the event\'s tenant that takes its type' },
  { codes: ['WHD_ERR_REDRIVE_CONFLICT'], where: 'admin API (409), redrive CLI (exit 3)', meaning: 'a redrive over an overlapping set of dead letters is running (through any instance, or the CLI); nothing was written', action: 'retry when it has finished' },
  { codes: ['WHD_ERR_REPLAY_RANGE'], where: 'admin API (400, field `until`)', meaning: 'a replay whose `until` is in the future, not after `since`, or more than `REPLAY_MAX_RANGE_HOURS` after it; nothing started', action: 'fix the range, or split it into several replays' },
  { codes: ['WHD_ERR_REPLAY_RETENTION'], where: 'admin API (400, field `since`)', meaning: 'a replay from before the oldest record Kafka still retains on the source topics; the message names the earliest time available; nothing started', action: 'replay from that time on; what is older is gone' },
  { codes: ['WHD_ERR_REPLAY_CONFLICT'], where: 'admin API (409)', meaning: 'an active replay of the endpoint overlaps the range (the message names it); nothing started', action: 'wait for it to finish, or cancel it (`DELETE /v1/replays/{id}`)' },
  { codes: ['WHD_ERR_REPLAY_LIMIT'], where: 'admin API (409)', meaning: 'the tenant has `REPLAY_MAX_JOBS_PER_TENANT` active replays; nothing started', action: 'wait for one to finish, or cancel one' },
  { codes: ['WHD_ERR_QUOTA_EXCEEDED'], where: 'admin API (409)', meaning: 'the tenant already has `ADMIN_MAX_ENDPOINTS_PER_TENANT` endpoints; nothing was created', action: 'delete an endpoint, or ask the operators to raise the limit' },
  { codes: ['WHD_ERR_RATE_LIMITED'], where: 'admin API (429)', meaning: 'more requests than `ADMIN_REQUEST_BURST` / `ADMIN_REQUESTS_PER_SECOND` from the tenant (or operator token), or more test events than `ADMIN_TEST_EVENTS_PER_MINUTE` from the tenant', action: 'wait the `Retry-After` seconds' },
  { codes: ['WHD_ERR_PRECONDITION_FAILED'], where: 'admin API (412)', meaning: 'the `If-Match` of a PATCH or DELETE names a revision the endpoint no longer has: someone changed it since you read it; nothing was written', action: 'GET it again (new `ETag`), decide, write with the new `If-Match`' },
  { codes: ['WHD_ERR_PAYLOAD_TOO_LARGE', 'WHD_ERR_METHOD_NOT_ALLOWED', 'WHD_ERR_UNSUPPORTED_MEDIA_TYPE'], where: 'admin API (413/405/415)', meaning: 'as named', action: '—' },
  { codes: ['WHD_ERR_TLS_MATERIAL'], where: 'delivery', meaning: 'an endpoint\'s TLS material is unusable (cert without key, key not matching, bad PEM; field named); nothing is sent. Since the same checks run when an endpoint is written (`WHD_ERR_VALIDATION`), only material stored before that can get here', action: 'fix the endpoint\'s `tls`' },
  { codes: ['WHD_ERR_TLS_HANDSHAKE'], where: 'delivery', meaning: 'the server closed the connection during the TLS handshake (often a refused client certificate)', action: 'check the client certificate / CA with the receiver' },
  { codes: ['WHD_ERR_UNDECODABLE_BATCH'], where: 'runtime', meaning: 'a compressed record batch cannot be decoded (CRC, unknown codec, not records); its partition stops before it, the others flow (topic, partition, offset, codec named)', action: 'see *Operations*: upgrade for an unknown codec, or restore / skip the corrupt batch' },
  { codes: ['WHD_ERR_PARKED_FORMAT'], where: 'runtime', meaning: 'a retry-topic record lacks the `whd-` headers a dispatcher writes (someone else wrote it); it is dead-lettered as `malformed-parked-record`', action: 'find the writer' },
  { codes: ['WHD_ERR_KAFKA_CRASH'], where: 'runtime', meaning: 'kafkajs gave up; the process exits 1 for the orchestrator to restart it', action: 'check broker connectivity' },
  { codes: ['WHE_ERR_VALIDATION'], where: 'producer library', meaning: 'an event fails its schema or a rule; `field` names it; nothing was written', action: 'fix the event' },
  { codes: ['WHE_ERR_DECODE'], where: 'events codec', meaning: 'bytes are not a banking event (`reason`)', action: '—' },
  { codes: ['WHE_ERR_REGISTRY_UNAVAILABLE'], where: 'events codec', meaning: 'registry unreachable or 5xx; retriable', action: 'retry later' },
  { codes: ['WHE_ERR_REGISTRY_REQUEST'], where: 'events codec', meaning: 'registry refused a request (bad schema, auth)', action: 'fix the request' },
  { codes: ['WHE_ERR_SCHEMA_INCOMPATIBLE'], where: 'schemas-check', meaning: 'a schema change breaks BACKWARD compatibility', action: 'add fields as optional with defaults' },
  { codes: ['WHP_ERR_TOPIC_MISSING'], where: 'producer library', meaning: 'a target topic does not exist', action: 'create it (`ensureTopics`)' },
  { codes: ['WHP_ERR_NOT_CONNECTED'], where: 'producer library', meaning: 'publish before `connect()`', action: 'call `connect()`' }
])

/** Where each command's exit codes are documented, for the table's first column. */
const commandLabels: Record<keyof typeof exitCodes, string> = {
  dispatcher: 'dispatcher (`main.js`)',
  redrive: 'redrive (`make redrive`, `cli/redrive.js`)',
  replay: 'replay (`make replay`, `cli/replay.js`)',
  'import-subscriptions': 'import-subscriptions (`cli/import-subscriptions.js`)'
}

const cell = (text: string): string => text.replaceAll('|', '\\|')

/** The error-code table (markdown), one row per {@link errorDocs} entry. */
export function renderErrorTable (docs: readonly ErrorDoc[] = errorDocs): string {
  return [
    '| Code | Where | Meaning | What to do |',
    '| --- | --- | --- | --- |',
    ...docs.map((doc) => `| ${doc.codes.map((code) => `\`${code}\``).join(', ')} | ${cell(doc.where)} | ${cell(doc.meaning)} | ${cell(doc.action)} |`)
  ].join('\n')
}

/** The exit-code table (markdown) of the dispatcher and its command lines, from `exitCodes`. */
export function renderExitCodeTable (): string {
  const rows = Object.entries(exitCodes).flatMap(([command, codes]) =>
    (codes as readonly ExitCode[]).map((row) => `| ${commandLabels[command as keyof typeof exitCodes]} | ${row.code} | ${cell(row.meaning)} |`))
  return ['| Command | Exit code | Meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

/** A metric family as prom-client describes it. */
export interface MetricFamily {
  name: string
  type: string
  help: string
}

/**
 * The metric-family table (markdown): the dispatcher's own families, then one
 * row for prom-client's process and Node.js defaults (same prefix).
 */
export function renderMetricTable (families: readonly MetricFamily[]): string {
  const defaults = families.filter((f) => /^webhooks_(process|nodejs)_/.test(f.name))
  const own = families.filter((f) => !defaults.includes(f))
  return [
    '| Metric | Type | Meaning |',
    '| --- | --- | --- |',
    ...own.map((f) => `| \`${f.name}\` | ${f.type} | ${cell(f.help)} |`),
    `| \`webhooks_process_*\`, \`webhooks_nodejs_*\` | | prom-client's process and Node.js defaults (${defaults.length} families: CPU, memory, file descriptors, event-loop lag, GC, heap) |`
  ].join('\n')
}

/** The README's generated blocks: name → content, between `<!-- name:start … -->` and `<!-- name:end -->`. */
export function generatedBlocks (families: readonly MetricFamily[]): Record<string, string> {
  return {
    'error-codes': renderErrorTable(),
    'exit-codes': renderExitCodeTable(),
    metrics: renderMetricTable(families)
  }
}

const startMarker = (name: string): string => `<!-- ${name}:start (generated by make docs from services/dispatcher/src; do not edit) -->`
const endMarker = (name: string): string => `<!-- ${name}:end -->`

/** The text with each generated block replaced; throws naming a block whose markers are missing. */
export function withGeneratedBlocks (text: string, blocks: Record<string, string>): string {
  let result = text
  for (const [name, content] of Object.entries(blocks)) {
    const start = result.indexOf(startMarker(name))
    const end = result.indexOf(endMarker(name))
    if (start === -1 || end === -1 || end < start) throw new Error(`README lacks the ${startMarker(name)} … ${endMarker(name)} markers`)
    result = `${result.slice(0, start)}${startMarker(name)}\n${content}\n${result.slice(end)}`
  }
  return result
}
