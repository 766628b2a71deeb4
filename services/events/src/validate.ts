/**
 * Validation before encoding: the Avro schema (avsc's `isValid` with an
 * error hook gives the failing path) plus the rules Avro cannot express.
 * Every issue names the field by its dotted path, e.g. `merchant.mcc`.
 */
import avro from 'avsc'
import type { Type } from 'avsc'
import { familyType } from './avro.js'
import { decimalProblem, DecimalType } from './decimal.js'
import { EventValidationError, type ValidationIssue } from './errors.js'
import { FAMILIES, type FamilyEventMap, type FamilyName } from './families.js'
import { TimestampMillisType } from './timestamp.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const CURRENCY = /^[A-Z]{3}$/
const COUNTRY = /^[A-Z]{2}$/
const MCC = /^\d{4}$/
const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/
const BIC = /^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/
const MAX_RISK_SCORE = 1000

/** Every problem with `event` as an event of `family`; empty when valid. */
export function findEventIssues (family: FamilyName, event: unknown): ValidationIssue[] {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return [{ field: '', message: `event must be an object, got ${describe(event)}` }]
  }
  const type = familyType(family)
  // An event of another family fails on many fields; say that first.
  const wrongType = eventTypeRule(family)(event as Record<string, unknown>)
  const issues: ValidationIssue[] = wrongType === undefined ? [] : [wrongType]
  type.isValid(event, {
    errorHook: (path: string[], value: unknown, fieldType: Type) => {
      issues.push({ field: path.join('.'), message: typeProblem(value, fieldType) })
    }
  })
  collectUndeclaredFields(type, event, [], issues)
  const seen = new Set(issues.map((issue) => issue.field))
  for (const issue of semanticIssues(family, event as Record<string, unknown>)) {
    // A field that already fails its Avro type is reported once.
    if (!seen.has(issue.field)) issues.push(issue)
  }
  return issues
}

/** Throws EventValidationError naming the first offending field. */
export function validateEvent<F extends FamilyName> (family: F, event: unknown): asserts event is FamilyEventMap[F] {
  const issues = findEventIssues(family, event)
  if (issues.length > 0) throw new EventValidationError(issues, { family })
}

function typeProblem (value: unknown, type: Type): string {
  if (value === undefined) return 'is required'
  if (value !== null && avro.Type.isType(type, 'union')) {
    // An optional field with a value: explain against the non-null branch.
    const branches = (type as unknown as { types: Type[] }).types.filter((branch) => branch.typeName !== 'null')
    if (branches.length === 1 && branches[0] !== undefined) return typeProblem(value, branches[0])
  }
  if (type instanceof DecimalType) return decimalProblem(value, type) ?? 'must be a decimal string'
  if (type instanceof TimestampMillisType) return `must be a valid Date, got ${describe(value)}`
  return `must be ${expected(type)}, got ${describe(value)}`
}

function expected (type: Type): string {
  if (type instanceof DecimalType) return 'a decimal string'
  if (type instanceof TimestampMillisType) return 'a Date'
  if (avro.Type.isType(type, 'union')) {
    return (type as unknown as { types: Type[] }).types.map(expected).join(' or ')
  }
  if (avro.Type.isType(type, 'enum')) {
    return `one of ${(type as unknown as { symbols: string[] }).symbols.join(', ')}`
  }
  if (avro.Type.isType(type, 'array')) {
    return `an array of ${plural(expected((type as unknown as { itemsType: Type }).itemsType))}`
  }
  switch (type.typeName) {
    case 'null': return 'null'
    case 'string': return 'a string'
    case 'int': return 'a 32-bit integer'
    // The project's long is avsc's "abstract" long (long.ts).
    case 'long':
    case 'abstract:long': return 'a 64-bit integer (a safe-integer number, or a bigint beyond 2^53 - 1)'
    case 'boolean': return 'a boolean'
    case 'record': return 'an object'
    default: return `a valid ${type.typeName}`
  }
}

function plural (description: string): string {
  return description.replace(/^an? /, '') + 's'
}

/** Keys the schema does not declare: usually a typo of an optional field. */
function collectUndeclaredFields (type: Type, value: unknown, path: string[], issues: ValidationIssue[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return
  if (avro.Type.isType(type, 'union')) {
    for (const branch of (type as unknown as { types: Type[] }).types) collectUndeclaredFields(branch, value, path, issues)
    return
  }
  if (!avro.Type.isType(type, 'record')) return
  const fields = (type as unknown as { fields: Array<{ name: string, type: Type }> }).fields
  const byName = new Map(fields.map((field) => [field.name, field.type]))
  for (const [key, fieldValue] of Object.entries(value)) {
    const fieldType = byName.get(key)
    if (fieldType === undefined) {
      if (fieldValue !== undefined) issues.push({ field: [...path, key].join('.'), message: 'is not a field of the schema' })
    } else {
      collectUndeclaredFields(fieldType, fieldValue, [...path, key], issues)
    }
  }
}

type Rule = (event: Record<string, unknown>) => ValidationIssue | undefined

const nonEmpty = (field: string): Rule => (event) => {
  const value = event[field]
  return typeof value === 'string' && value.trim() === '' ? { field, message: 'must not be empty' } : undefined
}

const matches = (path: string, pattern: RegExp, what: string, optional = false): Rule => (event) => {
  const value = valueAt(event, path)
  if (optional && (value === null || value === undefined)) return undefined
  return typeof value === 'string' && !pattern.test(value) ? { field: path, message: `must be ${what}, got ${JSON.stringify(value)}` } : undefined
}

const requiredWhen = (eventType: string, field: string): Rule => (event) => {
  const value = event[field]
  if (event.eventType !== eventType) return undefined
  return value === null || value === undefined || value === '' ? { field, message: `is required on ${eventType}` } : undefined
}

const absentUnless = (eventType: string, field: string): Rule => (event) => {
  const value = event[field]
  if (event.eventType === eventType) return undefined
  return value === null || value === undefined ? undefined : { field, message: `must be null unless eventType is ${eventType}` }
}

const eventTypeRule = (family: FamilyName): Rule => (event) => {
  const allowed: readonly string[] = FAMILIES[family].eventTypes
  const value = event.eventType
  return typeof value === 'string' && !allowed.includes(value)
    ? { field: 'eventType', message: `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}` }
    : undefined
}

const ENVELOPE_RULES = (): Rule[] => [
  matches('eventId', UUID, 'a UUID'),
  nonEmpty('tenantId'),
  nonEmpty('accountId'),
  (event) => {
    const value = event.accountSequence
    return (typeof value === 'number' || typeof value === 'bigint') && value < 1 ? { field: 'accountSequence', message: `must be a positive integer, got ${value}` } : undefined
  }
]

const FAMILY_RULES: { readonly [F in FamilyName]: Rule[] } = {
  transactions: [
    nonEmpty('transactionId'),
    (event) => typeof event.amount === 'string' && event.amount.startsWith('-')
      ? { field: 'amount', message: 'must not be negative (direction gives the sign)' }
      : undefined,
    matches('currency', CURRENCY, 'an ISO 4217 code (three capital letters)'),
    (event) => {
      const counterparty = event.counterparty as Record<string, unknown> | null | undefined
      return typeof counterparty?.name === 'string' && counterparty.name.trim() === ''
        ? { field: 'counterparty.name', message: 'must not be empty' }
        : undefined
    },
    matches('counterparty.iban', IBAN, 'an IBAN (country, check digits, account; no spaces)', true),
    matches('counterparty.bic', BIC, 'a BIC of 8 or 11 characters', true),
    matches('merchant.mcc', MCC, 'a four-digit merchant category code'),
    matches('merchant.country', COUNTRY, 'an ISO 3166-1 alpha-2 code', true),
    requiredWhen('transaction.declined', 'declineReason'),
    requiredWhen('transaction.reversed', 'reversedTransactionId')
  ],
  accounts: [
    matches('currency', CURRENCY, 'an ISO 4217 code (three capital letters)'),
    (event) => event.eventType === 'account.opened' && event.previousStatus !== null && event.previousStatus !== undefined
      ? { field: 'previousStatus', message: 'must be null on account.opened' }
      : undefined,
    (event) => event.eventType === 'account.opened' && event.newStatus !== 'ACTIVE' && event.newStatus !== 'PENDING'
      ? { field: 'newStatus', message: 'must be PENDING or ACTIVE on account.opened' }
      : undefined,
    (event) => event.eventType === 'account.frozen' && event.newStatus !== 'FROZEN'
      ? { field: 'newStatus', message: 'must be FROZEN on account.frozen' }
      : undefined,
    (event) => event.eventType === 'account.closed' && event.newStatus !== 'CLOSED'
      ? { field: 'newStatus', message: 'must be CLOSED on account.closed' }
      : undefined
  ],
  fraud: [
    nonEmpty('alertId'),
    (event) => {
      const value = event.riskScore
      return typeof value === 'number' && (value < 0 || value > MAX_RISK_SCORE)
        ? { field: 'riskScore', message: `must be from 0 to ${MAX_RISK_SCORE}, got ${value}` }
        : undefined
    },
    (event) => {
      const codes = event.reasonCodes
      if (!Array.isArray(codes)) return undefined
      const index = codes.findIndex((code) => typeof code === 'string' && code.trim() === '')
      return index >= 0 ? { field: `reasonCodes.${index}`, message: 'must not be empty' } : undefined
    },
    requiredWhen('fraud_alert.resolved', 'resolution'),
    absentUnless('fraud_alert.resolved', 'resolution')
  ]
}

function semanticIssues (family: FamilyName, event: Record<string, unknown>): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  for (const rule of [...ENVELOPE_RULES(), ...FAMILY_RULES[family]]) {
    const issue = rule(event)
    if (issue !== undefined) issues.push(issue)
  }
  return issues
}

function valueAt (event: Record<string, unknown>, path: string): unknown {
  let value: unknown = event
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return JSON.stringify(value)
  if (value instanceof Date) return 'a Date'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}
