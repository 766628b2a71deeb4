/**
 * Errors of the events module. Callers branch on `code` (stable strings,
 * listed in services/events/README.md), never on message text, and on
 * `retriable` to decide between retrying/pausing and giving up.
 */

export interface EventsErrorOptions {
  cause?: unknown
}

export abstract class EventsError extends Error {
  abstract readonly code: string
  readonly retriable: boolean

  constructor (message: string, options: EventsErrorOptions & { retriable: boolean }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.retriable = options.retriable
  }
}

/**
 * Why a Kafka record could not be turned into an event. Stable values, used
 * as the dead-letter reason and as a metric label.
 */
export const DecodeFailureReason = {
  /**
   * Null value: a Kafka tombstone. Events are never deleted, so a tombstone
   * on a source topic is not an event (someone ran a delete or compaction
   * tooling against it).
   */
  Tombstone: 'tombstone',
  /** Fewer than 5 bytes: no room for the wire-format header. */
  RecordTooShort: 'record_too_short',
  /** First byte is not the Confluent magic byte 0. */
  BadMagicByte: 'bad_magic_byte',
  /** The registry answered that it has no schema with this id. */
  UnknownSchemaId: 'unknown_schema_id',
  /** The Avro payload does not decode with its writer schema. */
  CorruptAvro: 'corrupt_avro',
  /** The writer schema is valid but is none of the banking event families. */
  UnsupportedSchema: 'unsupported_schema',
  /**
   * The record decodes, but its `eventType` is not one its family defines
   * (`account.opened` written with the transaction schema, or an unknown
   * `transaction.exploded`): the family comes from the writer schema's
   * record name, the type must belong to it.
   */
  EventTypeNotInFamily: 'event_type_not_in_family',
  /**
   * A transaction's `amount` is negative. Amounts are magnitudes and
   * `direction` gives the sign (schemas/README.md); the producer library
   * refuses to write one, any other Avro writer can.
   */
  NegativeAmount: 'negative_amount'
} as const
export type DecodeFailureReason = typeof DecodeFailureReason[keyof typeof DecodeFailureReason]

/** The record's bytes are not a banking event. Retrying cannot help. */
export class EventDecodeError extends EventsError {
  static readonly code = 'WHE_ERR_DECODE'
  readonly code = EventDecodeError.code
  readonly reason: DecodeFailureReason
  /** The schema id from the header, when the header was readable. */
  readonly schemaId: number | undefined

  constructor (reason: DecodeFailureReason, message: string, options: EventsErrorOptions & { schemaId?: number } = {}) {
    super(message, { retriable: false, cause: options.cause })
    this.reason = reason
    this.schemaId = options.schemaId
  }
}

/**
 * An event fails its schema or a semantic rule. `field` is the path of the
 * first offending field (`amount`, `merchant.mcc`, `reasonCodes.0`; empty
 * for the event itself); `issues` lists every problem found.
 */
export class EventValidationError extends EventsError {
  static readonly code = 'WHE_ERR_VALIDATION'
  readonly code = EventValidationError.code
  readonly field: string
  readonly issues: readonly ValidationIssue[]

  constructor (issues: readonly ValidationIssue[], options: EventsErrorOptions & { family?: string } = {}) {
    const first = issues[0] ?? { field: '', message: 'invalid event' }
    const what = options.family === undefined ? 'event' : `${options.family} event`
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map(describeIssue).join('; ')})` : ''
    super(`invalid ${what}: ${describeIssue(first)}${more}`, { retriable: false, cause: options.cause })
    this.field = first.field
    this.issues = issues
  }
}

export interface ValidationIssue {
  /** Dotted path of the field, e.g. `merchant.mcc`; empty for the whole event. */
  field: string
  message: string
}

function describeIssue (issue: ValidationIssue): string {
  return issue.field === '' ? issue.message : `${issue.field}: ${issue.message}`
}

/**
 * The schema registry could not be reached or failed (connection refused,
 * timeout, HTTP 5xx or 429, or any answer other than a definite "not
 * found"). Not the record's fault: pause and retry, never dead-letter.
 */
export class RegistryUnavailableError extends EventsError {
  static readonly code = 'WHE_ERR_REGISTRY_UNAVAILABLE'
  readonly code = RegistryUnavailableError.code
  /** HTTP status when the registry answered; undefined for network errors. */
  readonly status: number | undefined

  constructor (message: string, options: EventsErrorOptions & { status?: number } = {}) {
    super(message, { retriable: true, cause: options.cause })
    this.status = options.status
  }
}

/**
 * The registry refused a request for a reason retrying cannot fix: a
 * malformed schema (HTTP 422), an unknown subject, bad credentials.
 */
export class RegistryRequestError extends EventsError {
  static readonly code = 'WHE_ERR_REGISTRY_REQUEST'
  readonly code = RegistryRequestError.code
  readonly status: number
  /** Confluent `error_code` from the response body, when present. */
  readonly registryErrorCode: number | undefined

  constructor (message: string, options: EventsErrorOptions & { status: number, registryErrorCode?: number }) {
    super(message, { retriable: false, cause: options.cause })
    this.status = options.status
    this.registryErrorCode = options.registryErrorCode
  }
}

/** A schema is not compatible with the latest version under its subject. */
export class SchemaIncompatibleError extends EventsError {
  static readonly code = 'WHE_ERR_SCHEMA_INCOMPATIBLE'
  readonly code = SchemaIncompatibleError.code
  readonly subject: string
  /** Details from the registry, when it gives any. */
  readonly details: readonly string[]

  constructor (subject: string, details: readonly string[], options: EventsErrorOptions = {}) {
    const why = details.length > 0 ? `: ${details.join('; ')}` : ''
    super(`schema is not compatible with the latest version of subject ${subject}${why}`, { retriable: false, cause: options.cause })
    this.subject = subject
    this.details = details
  }
}
