// Errors the dispatcher raises on purpose. Callers branch on `err.code`, never
// on message text or `instanceof`: two copies of this module can be loaded
// (tests, a bundled CLI), and only the code is stable across them.

/** Options every dispatcher error accepts. */
export interface DispatcherErrorOptions {
  /** The underlying error, kept as the standard `Error.cause`. */
  cause?: unknown
}

/**
 * Base class of every error the dispatcher raises deliberately.
 *
 * `code` is the stable `WHD_ERR_*` identifier; `retriable` says whether doing
 * the same thing again later can succeed (kafkajs's `retriable`, BullMQ's
 * `UnrecoverableError`). `name` is the concrete class name.
 */
export abstract class DispatcherError extends Error {
  /** Overridden by every concrete class; the instance `code` copies it. */
  static readonly code: string = 'WHD_ERR'

  /** Stable identifier to branch on. */
  readonly code: string
  /** Whether repeating the failed operation later can succeed. */
  readonly retriable: boolean

  protected constructor (message: string, options: DispatcherErrorOptions & { retriable: boolean }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    // new.target is the concrete subclass, so each class declares its code
    // and name exactly once, in its static `code` and its class name.
    this.name = new.target.name
    this.code = new.target.code
    this.retriable = options.retriable
  }
}

/**
 * The configuration is invalid. Raised once at start-up; the message names the
 * environment variable so an operator can fix it without reading code.
 */
export class ConfigError extends DispatcherError {
  static override readonly code = 'WHD_ERR_CONFIG'
  /** The environment variable that is missing or invalid. */
  readonly variable: string

  /**
   * @param variable - environment variable name, e.g. `DELIVERY_TIMEOUT_MS`
   * @param problem - what is wrong with it, e.g. `must be a positive integer, got "abc"`
   */
  constructor (variable: string, problem: string, options: DispatcherErrorOptions = {}) {
    super(`${variable}: ${problem}`, { ...options, retriable: false })
    this.variable = variable
  }
}

/** Why a source record could not be decoded; the dead-letter reason code. */
export type DecodeFailureReason =
  | 'tombstone'
  | 'record-too-short'
  | 'bad-magic-byte'
  | 'unknown-schema-id'
  | 'corrupt-avro'
  | 'unknown-event-type'
  | 'missing-field'
  | 'event-type-not-in-family'
  | 'negative-amount'

/** Every {@link DecodeFailureReason}, e.g. to pre-register metric label values. */
export const decodeFailureReasons: readonly DecodeFailureReason[] = Object.freeze([
  'tombstone',
  'record-too-short',
  'bad-magic-byte',
  'unknown-schema-id',
  'corrupt-avro',
  'unknown-event-type',
  'missing-field',
  'event-type-not-in-family',
  'negative-amount'
])

/**
 * A source record is bad input (DESIGN C5): it goes to the dead-letter topic
 * with `reason` and consumption moves on. Not retriable: the bytes will not
 * change. A registry outage is a {@link RegistryUnavailableError} instead.
 */
export class DecodeError extends DispatcherError {
  static override readonly code = 'WHD_ERR_DECODE'
  /** Machine-readable reason, recorded on the dead letter. */
  readonly reason: DecodeFailureReason

  constructor (reason: DecodeFailureReason, message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
    this.reason = reason
  }
}

/**
 * The schema registry could not be reached or answered with a server error.
 * Retriable: the partition pauses and resumes; nothing is dead-lettered (C5).
 */
export class RegistryUnavailableError extends DispatcherError {
  static override readonly code = 'WHD_ERR_REGISTRY_UNAVAILABLE'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: true })
  }
}

/**
 * A topic the dispatcher needs is missing or has the wrong shape, e.g. a retry
 * topic whose partition count differs from its source topic.
 */
export class TopicLayoutError extends DispatcherError {
  static override readonly code = 'WHD_ERR_TOPIC_LAYOUT'
  /** The topic whose layout is wrong. */
  readonly topic: string

  /**
   * @param topic - the offending topic; the message always names it
   * @param problem - what is wrong, e.g. `has 6 partitions, its source has 12`
   */
  constructor (topic: string, problem: string, options: DispatcherErrorOptions = {}) {
    super(`topic "${topic}": ${problem}`, { ...options, retriable: false })
    this.topic = topic
  }
}

/** The subscriptions topic could not be read or holds an unusable record. */
export class SubscriptionSourceError extends DispatcherError {
  static override readonly code = 'WHD_ERR_SUBSCRIPTIONS'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
  }
}

/** Graceful shutdown did not finish before its deadline (C7). */
export class ShutdownTimeoutError extends DispatcherError {
  static override readonly code = 'WHD_ERR_SHUTDOWN_TIMEOUT'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
  }
}

/**
 * The kafkajs consumer crashed and will not restart by itself; the process
 * should exit so the orchestrator restarts it (uncommitted work is redelivered).
 */
export class KafkaCrashError extends DispatcherError {
  static override readonly code = 'WHD_ERR_KAFKA_CRASH'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
  }
}

/**
 * A compressed record batch could not be decoded: its CRC does not match,
 * its codec is unknown, or it does not decompress to records. Its partition
 * stops at the batch (nothing at or past it is processed or committed);
 * other partitions flow. Retrying the same bytes cannot help.
 */
export class UndecodableBatchError extends DispatcherError {
  static override readonly code = 'WHD_ERR_UNDECODABLE_BATCH'
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly codec: string

  constructor (at: { topic: string, partition: number, offset: string }, problem: { codec: string, reason: string }, options: DispatcherErrorOptions = {}) {
    super(`undecodable ${problem.codec} record batch on ${at.topic} partition ${at.partition} at offset ${at.offset}: ${problem.reason}`, { ...options, retriable: false })
    this.topic = at.topic
    this.partition = at.partition
    this.offset = at.offset
    this.codec = problem.codec
  }
}

/**
 * A retry-topic or dead-letter record lacks the `whd-` headers a dispatcher
 * writes: someone else wrote it. The retry lane dead-letters it
 * (`malformed-parked-record`) with where it sat.
 */
export class ParkedRecordFormatError extends DispatcherError {
  static override readonly code = 'WHD_ERR_PARKED_FORMAT'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
  }
}

/**
 * A redrive was refused because another one over an overlapping set of dead
 * letters is running (through any instance, or the CLI): both would redrive
 * the same letters. Nothing was written. Retriable: run it again when the
 * other has finished.
 */
export class RedriveConflictError extends DispatcherError {
  static override readonly code = 'WHD_ERR_REDRIVE_CONFLICT'
  /** The redrive that is running. */
  readonly runningRedriveId: string

  constructor (runningRedriveId: string, message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: true })
    this.runningRedriveId = runningRedriveId
  }
}

// ---- delivery -------------------------------------------------------------

/**
 * The dispatcher refused to connect to an address the SSRF policy blocks. Not
 * retriable as such: the same name usually resolves to the same place (the
 * delivery engine still retries on its schedule, in case DNS is fixed).
 */
export class SsrfBlockedError extends DispatcherError {
  static override readonly code = 'WHD_ERR_SSRF_BLOCKED'
  /** The host as the URL named it (a name or an IP literal). */
  readonly hostname: string
  /** The address that was refused. */
  readonly address: string
  /** The refused range, e.g. `127.0.0.0/8`. */
  readonly range: string

  /** @param refused - the range and its wording, from the SSRF policy (delivery/ssrf/connect-guard.ts `ssrfBlocked`) */
  constructor (hostname: string, address: string, refused: { range: string, description: string }, options: DispatcherErrorOptions = {}) {
    super(hostname === address ? `refusing to connect: ${refused.description}` : `refusing to connect to ${hostname}: ${refused.description}`, { ...options, retriable: false })
    this.hostname = hostname
    this.address = address
    this.range = refused.range
  }
}

/**
 * An endpoint's TLS material cannot be used: a certificate without its key,
 * a key that does not match the certificate, PEM that does not parse. Nothing
 * is sent. Not retriable as such: the subscription must be fixed (the engine
 * still retries on its schedule). The message never contains the PEM.
 */
export class TlsMaterialError extends DispatcherError {
  static override readonly code = 'WHD_ERR_TLS_MATERIAL'
  /** The offending field of `DeliveryTlsMaterial`, e.g. `clientKeyPem`. */
  readonly field: string

  constructor (field: string, problem: string, options: DispatcherErrorOptions = {}) {
    super(`tls.${field}: ${problem}`, { ...options, retriable: false })
    this.field = field
  }
}

/**
 * The server closed or reset the connection during the TLS handshake, before
 * it was established: typically it refused the client certificate (or the
 * lack of one) under TLS 1.2, or it does not speak TLS on that port.
 */
export class TlsHandshakeError extends DispatcherError {
  static override readonly code = 'WHD_ERR_TLS_HANDSHAKE'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: true })
  }
}

// ---- subscriptions --------------------------------------------------------

/** No subscription has this id (or it is not visible to the caller). */
export class SubscriptionNotFoundError extends DispatcherError {
  static override readonly code = 'WHD_ERR_NOT_FOUND'
  readonly id: string

  constructor (id: string, options: DispatcherErrorOptions = {}) {
    super(`subscription "${id}" does not exist`, { ...options, retriable: false })
    this.id = id
  }
}

/** An input field is missing or invalid; `field` names it (e.g. `eventTypes[2]`). */
export class SubscriptionValidationError extends DispatcherError {
  static override readonly code: string = 'WHD_ERR_VALIDATION'
  readonly field: string
  /** The problem without the field name, e.g. `must be a positive integer`. */
  readonly reason: string

  constructor (field: string, reason: string, options: DispatcherErrorOptions = {}) {
    super(`${field}: ${reason}`, { ...options, retriable: false })
    this.field = field
    this.reason = reason
  }
}

/** The endpoint URL is malformed, not https (unless allowed), or carries credentials. */
export class EndpointUrlInvalidError extends SubscriptionValidationError {
  static override readonly code = 'WHD_ERR_URL_INVALID'
}

/**
 * The endpoint URL names a host webhooks may not reach (private, loopback,
 * link-local, …: DESIGN §6). Same code as the connect-time `SsrfBlockedError`,
 * which refuses the same thing for resolved addresses.
 */
export class EndpointUrlBlockedError extends SubscriptionValidationError {
  static override readonly code = 'WHD_ERR_SSRF_BLOCKED'
}

/**
 * A conditional write (`If-Match` on the admin API) named a revision the
 * subscription no longer has: someone else changed it since the caller read
 * it. Nothing was written. Not retriable as is: read the endpoint again,
 * decide, and write with its new revision.
 */
export class SubscriptionRevisionMismatchError extends DispatcherError {
  static override readonly code = 'WHD_ERR_PRECONDITION_FAILED'
  readonly id: string
  /** The revision the subscription has. */
  readonly revision: number

  constructor (id: string, revision: number, expected: number, options: DispatcherErrorOptions = {}) {
    super(`subscription "${id}" is at revision ${revision}, not ${expected}: it changed since it was read`, { ...options, retriable: false })
    this.id = id
    this.revision = revision
  }
}

/**
 * The store cannot take writes now: not started, closing, Kafka unreachable,
 * or a write was acknowledged but this instance has not read it back in time
 * (then the write is durable and applies when the instance catches up).
 * Retriable.
 */
export class SubscriptionStoreUnavailableError extends DispatcherError {
  static override readonly code = 'WHD_ERR_STORE_UNAVAILABLE'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: true })
  }
}

/**
 * The history index cannot answer now: the thread that answers the admin
 * API's queries of the SQLite index exited (a query past its heap limit,
 * or shutdown). The admin API answers 503; the next query starts the
 * thread again. Retriable.
 */
export class HistoryQueryUnavailableError extends DispatcherError {
  static override readonly code = 'WHD_ERR_HISTORY_UNAVAILABLE'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: true })
  }
}

/**
 * A secret could not be encrypted or decrypted: an unknown key id, a key of
 * the wrong size, or an envelope that fails authentication (tampered, or
 * encrypted under another key with the same id). The message never contains
 * the plaintext or key material. Not retriable: configure the missing key.
 */
export class SecretKeyError extends DispatcherError {
  static override readonly code = 'WHD_ERR_SECRET_KEY'
  /** The key id concerned, when there is one. */
  readonly kid: string | undefined

  constructor (message: string, kid?: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
    this.kid = kid
  }
}

/**
 * A subscriptions record whose MAC does not verify (`reason: 'mac-mismatch'`:
 * written or changed by someone without the keys), or that carries none
 * (`reason: 'unsigned'`: written before records were authenticated, DESIGN §6).
 * The record is never applied. Not retriable: the record itself is at fault.
 */
export class SubscriptionRecordIntegrityError extends DispatcherError {
  static override readonly code = 'WHD_ERR_RECORD_INTEGRITY'
  readonly reason: 'mac-mismatch' | 'unsigned'

  constructor (message: string, reason: 'mac-mismatch' | 'unsigned', options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: false })
    this.reason = reason
  }
}

/**
 * A write to an endpoint in quarantine (its record could not be verified or
 * decrypted, so its secrets are unknown to this instance). Only a delete is
 * allowed; the admin API answers 409 `WHD_ERR_CONFLICT`.
 */
export class EndpointQuarantinedError extends DispatcherError {
  static override readonly code = 'WHD_ERR_QUARANTINE_CONFLICT'
  readonly id: string

  constructor (id: string, reason: string, options: DispatcherErrorOptions = {}) {
    super(`endpoint "${id}" is quarantined (${reason}); it can only be deleted until its record is readable again`, { ...options, retriable: false })
    this.id = id
  }
}

/**
 * The registry: every concrete error class of the dispatcher, with the HTTP
 * status the admin API answers when a dependency throws it (none: it never
 * reaches a response). The README's error-code table is checked against it,
 * and one table test checks each class's name, code and retriable flag.
 * `EndpointUrlBlockedError` shares its code with `SsrfBlockedError` on
 * purpose: the same refusal, judged on the URL at write time and on the
 * resolved address at connect time.
 */
export const errorRegistry = Object.freeze([
  { errorClass: ConfigError },
  { errorClass: DecodeError },
  { errorClass: RegistryUnavailableError },
  { errorClass: TopicLayoutError },
  { errorClass: SubscriptionSourceError },
  { errorClass: ShutdownTimeoutError },
  { errorClass: KafkaCrashError },
  { errorClass: UndecodableBatchError },
  { errorClass: ParkedRecordFormatError },
  { errorClass: RedriveConflictError, httpStatus: 409 },
  { errorClass: SsrfBlockedError },
  { errorClass: TlsMaterialError },
  { errorClass: TlsHandshakeError },
  { errorClass: SubscriptionNotFoundError, httpStatus: 404 },
  { errorClass: SubscriptionValidationError, httpStatus: 400 },
  { errorClass: EndpointUrlInvalidError, httpStatus: 400 },
  { errorClass: EndpointUrlBlockedError, httpStatus: 400, sharesCodeWith: SsrfBlockedError },
  { errorClass: SubscriptionRevisionMismatchError, httpStatus: 412 },
  { errorClass: SubscriptionStoreUnavailableError, httpStatus: 503 },
  { errorClass: HistoryQueryUnavailableError, httpStatus: 503 },
  { errorClass: SecretKeyError },
  { errorClass: SubscriptionRecordIntegrityError },
  { errorClass: EndpointQuarantinedError, httpStatus: 409 }
] as const)

/** Every concrete error class, in registry order. */
export const allErrorClasses = Object.freeze(errorRegistry.map((row) => row.errorClass))

/** The `code` of any concrete dispatcher error. */
export type DispatcherErrorCode = (typeof allErrorClasses)[number]['code']

const knownCodes: ReadonlySet<string> = new Set(allErrorClasses.map((errorClass) => errorClass.code))

/**
 * Whether `value` is a dispatcher error, judged by its code rather than
 * `instanceof` so that errors from another loaded copy of this module count.
 */
export function isDispatcherError (value: unknown): value is DispatcherError {
  if (typeof value !== 'object' || value === null) return false
  const { code, retriable } = value as { code?: unknown, retriable?: unknown }
  return typeof code === 'string' && knownCodes.has(code) && typeof retriable === 'boolean'
}

// ---- exit codes -------------------------------------------------------------

/** One exit code of a command, as its usage text and the README state it. */
export interface ExitCode {
  code: number
  meaning: string
}

/**
 * The exit codes of the dispatcher and its command lines: the one source of
 * the usage texts, the CLIs' return values and the README's exit-code table
 * (`make docs`; a unit test fails while the README differs).
 */
export const exitCodes = Object.freeze({
  dispatcher: [
    { code: 0, meaning: 'stopped cleanly after SIGTERM or SIGINT' },
    { code: 1, meaning: 'fatal: WHD_ERR_SHUTDOWN_TIMEOUT, WHD_ERR_KAFKA_CRASH, WHD_ERR_TOPIC_LAYOUT, a subscription store that stopped, an unhandled error (logged at fatal)' },
    { code: 78, meaning: 'invalid configuration: WHD_ERR_CONFIG, naming the variable (EX_CONFIG)' }
  ],
  redrive: [
    { code: 0, meaning: 'done' },
    { code: 1, meaning: 'Kafka error' },
    { code: 2, meaning: 'bad flags or environment (WHD_ERR_CONFIG, naming the flag or variable)' },
    { code: 3, meaning: 'an overlapping redrive is running (WHD_ERR_REDRIVE_CONFLICT); nothing written' },
    { code: 130, meaning: 'interrupted (SIGINT/SIGTERM) after the batch at hand' }
  ],
  replay: [
    { code: 0, meaning: 'done: the job completed (or was started, listed, shown, cancelled without following)' },
    { code: 1, meaning: 'Kafka error' },
    { code: 2, meaning: 'bad flags or environment (WHD_ERR_CONFIG, naming the flag or variable)' },
    { code: 3, meaning: 'refused (WHD_ERR_REPLAY_RANGE, _RETENTION, _CONFLICT, _LIMIT, named); nothing started' },
    { code: 4, meaning: 'the job ended cancelled, or no such job' },
    { code: 130, meaning: 'interrupted (SIGINT/SIGTERM) while following; the job goes on' }
  ],
  'import-subscriptions': [
    { code: 0, meaning: 'done' },
    { code: 1, meaning: 'Kafka or store error' },
    { code: 2, meaning: 'bad arguments, environment or file (naming the variable, entry or field)' }
  ]
} satisfies Record<string, readonly ExitCode[]>)

export type CommandName = keyof typeof exitCodes

/** The exit code of `command` whose meaning starts with `meaningStart`; throws when there is none, so a CLI cannot return an undocumented code. */
export function exitCode (command: CommandName, meaningStart: string): number {
  const row = (exitCodes[command] as readonly ExitCode[]).find((r) => r.meaning.startsWith(meaningStart))
  if (row === undefined) throw new Error(`no exit code of ${command} means "${meaningStart}…"`)
  return row.code
}

/** `0 done, 1 Kafka error, …`: the codes of a command for its usage text. */
export function exitCodeSummary (command: CommandName): string {
  return (exitCodes[command] as readonly ExitCode[]).map((r) => `${r.code} ${r.meaning}`).join(', ')
}
