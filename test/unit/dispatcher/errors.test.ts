import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  allErrorClasses,
  ConfigError,
  DecodeError,
  decodeFailureReasons,
  DispatcherError,
  EndpointUrlBlockedError,
  EndpointQuarantinedError,
  EndpointUrlInvalidError,
  errorRegistry,
  isDispatcherError,
  KafkaCrashError,
  ParkedRecordFormatError,
  RedriveConflictError,
  RegistryUnavailableError,
  SecretKeyError,
  ShutdownTimeoutError,
  SsrfBlockedError,
  SubscriptionNotFoundError,
  SubscriptionRecordIntegrityError,
  SubscriptionRevisionMismatchError,
  SubscriptionSourceError,
  SubscriptionStoreUnavailableError,
  HistoryQueryUnavailableError,
  SubscriptionValidationError,
  TlsHandshakeError,
  TlsMaterialError,
  TopicLayoutError,
  UndecodableBatchError
} from '../../../services/dispatcher/src/errors.js'
import { apiErrorCodes, apiErrorStatus, fromDependencyError } from '../../../services/dispatcher/src/http/admin/errors.js'
import * as eventsErrors from '../../../services/events/src/errors.js'
import * as producerErrors from '../../../services/producer/src/errors.js'

const cause = new Error('root cause')

// One row per class: how to build it, and what it must report.
const table: Array<{ make: () => DispatcherError, errorClass: { code: string, name: string }, name: string, code: string, retriable: boolean }> = [
  { make: () => new ConfigError('DELIVERY_TIMEOUT_MS', 'must be a positive integer', { cause }), errorClass: ConfigError, name: 'ConfigError', code: 'WHD_ERR_CONFIG', retriable: false },
  { make: () => new DecodeError('corrupt-avro', 'bad union index', { cause }), errorClass: DecodeError, name: 'DecodeError', code: 'WHD_ERR_DECODE', retriable: false },
  { make: () => new RegistryUnavailableError('registry returned 503', { cause }), errorClass: RegistryUnavailableError, name: 'RegistryUnavailableError', code: 'WHD_ERR_REGISTRY_UNAVAILABLE', retriable: true },
  { make: () => new TopicLayoutError('banking.transactions.v1.retry', 'has 6 partitions', { cause }), errorClass: TopicLayoutError, name: 'TopicLayoutError', code: 'WHD_ERR_TOPIC_LAYOUT', retriable: false },
  { make: () => new SubscriptionSourceError('bad record', { cause }), errorClass: SubscriptionSourceError, name: 'SubscriptionSourceError', code: 'WHD_ERR_SUBSCRIPTIONS', retriable: false },
  { make: () => new ShutdownTimeoutError('took longer than 30000 ms', { cause }), errorClass: ShutdownTimeoutError, name: 'ShutdownTimeoutError', code: 'WHD_ERR_SHUTDOWN_TIMEOUT', retriable: false },
  { make: () => new KafkaCrashError('consumer crashed', { cause }), errorClass: KafkaCrashError, name: 'KafkaCrashError', code: 'WHD_ERR_KAFKA_CRASH', retriable: false },
  { make: () => new UndecodableBatchError({ topic: 't', partition: 1, offset: '42' }, { codec: 'lz4', reason: 'crc-mismatch' }, { cause }), errorClass: UndecodableBatchError, name: 'UndecodableBatchError', code: 'WHD_ERR_UNDECODABLE_BATCH', retriable: false },
  { make: () => new ParkedRecordFormatError('record lacks whd-source-* headers', { cause }), errorClass: ParkedRecordFormatError, name: 'ParkedRecordFormatError', code: 'WHD_ERR_PARKED_FORMAT', retriable: false },
  { make: () => new RedriveConflictError('r-1', 'redrive r-1 is running', { cause }), errorClass: RedriveConflictError, name: 'RedriveConflictError', code: 'WHD_ERR_REDRIVE_CONFLICT', retriable: true },
  { make: () => new SsrfBlockedError('metadata.internal', '169.254.169.254', { range: '169.254.0.0/16', description: 'link-local' }, { cause }), errorClass: SsrfBlockedError, name: 'SsrfBlockedError', code: 'WHD_ERR_SSRF_BLOCKED', retriable: false },
  { make: () => new TlsMaterialError('clientKeyPem', 'does not match the certificate', { cause }), errorClass: TlsMaterialError, name: 'TlsMaterialError', code: 'WHD_ERR_TLS_MATERIAL', retriable: false },
  { make: () => new TlsHandshakeError('socket closed during the handshake', { cause }), errorClass: TlsHandshakeError, name: 'TlsHandshakeError', code: 'WHD_ERR_TLS_HANDSHAKE', retriable: true },
  { make: () => new SubscriptionNotFoundError('s1', { cause }), errorClass: SubscriptionNotFoundError, name: 'SubscriptionNotFoundError', code: 'WHD_ERR_NOT_FOUND', retriable: false },
  { make: () => new SubscriptionValidationError('eventTypes', 'must be non-empty', { cause }), errorClass: SubscriptionValidationError, name: 'SubscriptionValidationError', code: 'WHD_ERR_VALIDATION', retriable: false },
  { make: () => new EndpointUrlInvalidError('url', 'not an absolute URL', { cause }), errorClass: EndpointUrlInvalidError, name: 'EndpointUrlInvalidError', code: 'WHD_ERR_URL_INVALID', retriable: false },
  { make: () => new EndpointUrlBlockedError('url', 'loopback', { cause }), errorClass: EndpointUrlBlockedError, name: 'EndpointUrlBlockedError', code: 'WHD_ERR_SSRF_BLOCKED', retriable: false },
  { make: () => new SubscriptionRevisionMismatchError('s1', 4, 3, { cause }), errorClass: SubscriptionRevisionMismatchError, name: 'SubscriptionRevisionMismatchError', code: 'WHD_ERR_PRECONDITION_FAILED', retriable: false },
  { make: () => new SubscriptionStoreUnavailableError('not started', { cause }), errorClass: SubscriptionStoreUnavailableError, name: 'SubscriptionStoreUnavailableError', code: 'WHD_ERR_STORE_UNAVAILABLE', retriable: true },
  { make: () => new HistoryQueryUnavailableError('the reader exited', { cause }), errorClass: HistoryQueryUnavailableError, name: 'HistoryQueryUnavailableError', code: 'WHD_ERR_HISTORY_UNAVAILABLE', retriable: true },
  { make: () => new SecretKeyError('no key "k9"', 'k9', { cause }), errorClass: SecretKeyError, name: 'SecretKeyError', code: 'WHD_ERR_SECRET_KEY', retriable: false },
  { make: () => new SubscriptionRecordIntegrityError('MAC does not verify', 'mac-mismatch', { cause }), errorClass: SubscriptionRecordIntegrityError, name: 'SubscriptionRecordIntegrityError', code: 'WHD_ERR_RECORD_INTEGRITY', retriable: false },
  { make: () => new EndpointQuarantinedError('s1', 'no key "k9"', { cause }), errorClass: EndpointQuarantinedError, name: 'EndpointQuarantinedError', code: 'WHD_ERR_QUARANTINE_CONFLICT', retriable: false }
]

describe('error classes', () => {
  it.each(table)('$name has code $code and retriable=$retriable', ({ make, errorClass, name, code, retriable }) => {
    const err = make()
    expect(err).toBeInstanceOf(Error)
    expect(err).toBeInstanceOf(DispatcherError)
    expect(err).toBeInstanceOf(errorClass)
    expect(err.name).toBe(name)
    expect(errorClass.name).toBe(name)
    expect(err.code).toBe(code)
    expect(errorClass.code).toBe(code)
    expect(err.retriable).toBe(retriable)
    expect(err.cause).toBe(cause)
    expect(err.stack).toContain(name)
    expect(isDispatcherError(err)).toBe(true)
  })

  it('the table covers exactly allErrorClasses', () => {
    expect(new Set(allErrorClasses)).toEqual(new Set(table.map((row) => row.errorClass)))
    expect(allErrorClasses).toHaveLength(table.length)
  })

  it('codes are unique but where the registry says a class shares one, and follow the WHD_ERR_ prefix', () => {
    const own = errorRegistry.filter((row) => !('sharesCodeWith' in row)).map((row) => row.errorClass.code)
    expect(new Set(own).size).toBe(own.length)
    for (const row of errorRegistry) {
      expect(row.errorClass.code).toMatch(/^WHD_ERR_[A-Z_]+$/)
      if ('sharesCodeWith' in row) expect(row.errorClass.code).toBe(row.sharesCodeWith.code)
    }
  })

  it('the admin API answers a class the registry gives a status with that status', () => {
    for (const { make, errorClass } of table) {
      const row = errorRegistry.find((r) => r.errorClass === errorClass)
      if (row === undefined || !('httpStatus' in row)) continue
      const answer = fromDependencyError(make())
      expect(answer?.status, errorClass.name).toBe(row.httpStatus)
      expect(apiErrorStatus[answer?.code as keyof typeof apiErrorStatus]).toBe(row.httpStatus)
    }
  })

  it('omits cause when none is given', () => {
    const err = new KafkaCrashError('crashed')
    expect('cause' in err).toBe(false)
    expect(err.message).toBe('crashed')
  })

  it('keeps a falsy cause', () => {
    expect(new ShutdownTimeoutError('late', { cause: 0 }).cause).toBe(0)
  })
})

describe('ConfigError', () => {
  it('names the variable in the message and carries it', () => {
    const err = new ConfigError('RETRY_MAX_AGE_HOURS', 'must be at least 1, got 0')
    expect(err.variable).toBe('RETRY_MAX_AGE_HOURS')
    expect(err.message).toBe('RETRY_MAX_AGE_HOURS: must be at least 1, got 0')
  })
})

describe('DecodeError', () => {
  it.each(decodeFailureReasons)('carries reason %s', (reason) => {
    const err = new DecodeError(reason, 'cannot decode')
    expect(err.reason).toBe(reason)
    expect(err.message).toBe('cannot decode')
  })

  it('lists the nine reasons', () => {
    expect([...decodeFailureReasons].sort()).toEqual([
      'bad-magic-byte', 'corrupt-avro', 'event-type-not-in-family', 'missing-field', 'negative-amount', 'record-too-short', 'tombstone', 'unknown-event-type', 'unknown-schema-id'
    ])
    expect(Object.isFrozen(decodeFailureReasons)).toBe(true)
  })
})

describe('TopicLayoutError', () => {
  it('names the topic in the message and carries it', () => {
    const err = new TopicLayoutError('banking.accounts.v1.retry', 'does not exist')
    expect(err.topic).toBe('banking.accounts.v1.retry')
    expect(err.message).toBe('topic "banking.accounts.v1.retry": does not exist')
  })
})

describe('isDispatcherError', () => {
  it('accepts a look-alike from another copy of the module by code', () => {
    const foreign = Object.assign(new Error('x'), { code: 'WHD_ERR_DECODE', retriable: false })
    expect(isDispatcherError(foreign)).toBe(true)
  })

  it.each([
    ['a plain Error', new Error('x')],
    ['an error with a foreign code', Object.assign(new Error('x'), { code: 'ECONNRESET', retriable: true })],
    ['a known code without retriable', Object.assign(new Error('x'), { code: 'WHD_ERR_DECODE' })],
    ['null', null],
    ['a string', 'WHD_ERR_DECODE']
  ])('rejects %s', (_label, value) => {
    expect(isDispatcherError(value)).toBe(false)
  })
})

describe('the README\'s error codes', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('\n## ', readme.indexOf('## Error codes') + 1))
  // First column of each table row: one or more backticked codes.
  const documented = new Set(section.split('\n').filter((line) => line.startsWith('| `')).flatMap((line) => [...(line.split(' | ')[0] ?? '').matchAll(/`(WH[DEP]_ERR_[A-Z_]+)`/g)].map((m) => m[1] as string)))
  const codesOf = (module: Record<string, unknown>): string[] => Object.values(module).flatMap((value) => {
    const code = (value as { code?: unknown }).code
    return typeof value === 'function' && typeof code === 'string' ? [code] : []
  })
  const known = new Set([...allErrorClasses.map((c) => c.code), ...apiErrorCodes, ...codesOf(eventsErrors), ...codesOf(producerErrors)])

  it('lists every code of every registry, and no code that none has', () => {
    expect([...known].filter((code) => !documented.has(code)).sort()).toEqual([])
    expect([...documented].filter((code) => !known.has(code)).sort()).toEqual([])
  })
})
