/**
 * The three event families: one Avro record each, all with the same envelope
 * fields first. By default all three share one source topic per account
 * stream (`banking.account-events.v1`), one registry subject per record
 * (Confluent's TopicRecordNameStrategy), so Kafka keeps one account's events
 * of every family in one partition, in order. Schemas live in the repository's `schemas/`
 * directory (shared with producers in other languages); this module loads
 * them and states the TypeScript shape of decoded events.
 *
 * Decoded representation:
 * - decimals (`amount`, `balanceAfter`) are strings with exactly 4 fraction
 *   digits ("1234.5000"); on input 0 to 4 fraction digits are accepted;
 * - `occurredAt` is a `Date`;
 * - Avro longs are read exactly (long.ts): a `number` up to 2^53 - 1, a
 *   `bigint` beyond, as a Java producer may write in `accountSequence`;
 * - optional fields decode as `null` when absent.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const TRANSACTION_EVENT_TYPES = [
  'transaction.authorized', 'transaction.posted', 'transaction.declined', 'transaction.reversed'
] as const
export const ACCOUNT_STATUS_EVENT_TYPES = [
  'account.opened', 'account.updated', 'account.frozen', 'account.closed'
] as const
export const FRAUD_ALERT_EVENT_TYPES = ['fraud_alert.raised', 'fraud_alert.resolved'] as const

export type TransactionEventType = typeof TRANSACTION_EVENT_TYPES[number]
export type AccountStatusEventType = typeof ACCOUNT_STATUS_EVENT_TYPES[number]
export type FraudAlertEventType = typeof FRAUD_ALERT_EVENT_TYPES[number]
export type BankingEventType = TransactionEventType | AccountStatusEventType | FraudAlertEventType

/** Fields every event starts with, in this order. */
export interface EventEnvelope<T extends string = BankingEventType> {
  /** UUID; the webhook-id of every delivery of this event. */
  eventId: string
  eventType: T
  occurredAt: Date
  tenantId: string
  /** Kafka key of the record. */
  accountId: string
  /**
   * Per account, from 1, strictly increasing; any positive Avro long. Decoded
   * as a `number` up to 2^53 - 1 and as a `bigint` beyond (long.ts).
   */
  accountSequence: number | bigint
}

export const ENVELOPE_FIELDS = [
  'eventId', 'eventType', 'occurredAt', 'tenantId', 'accountId', 'accountSequence'
] as const

export type TransactionDirection = 'CREDIT' | 'DEBIT'

export interface Counterparty {
  name: string
  iban?: string | null
  bic?: string | null
}

export interface Merchant {
  name: string
  /** ISO 18245 merchant category code, four digits. */
  mcc: string
  city?: string | null
  /** ISO 3166-1 alpha-2. */
  country?: string | null
}

export interface TransactionEvent extends EventEnvelope<TransactionEventType> {
  transactionId: string
  /** Decimal string, never negative; `direction` gives the sign. */
  amount: string
  /** ISO 4217 code. */
  currency: string
  direction: TransactionDirection
  counterparty?: Counterparty | null
  merchant?: Merchant | null
  /** Decimal string; set on posted and reversed. */
  balanceAfter?: string | null
  description?: string | null
  /** Set on `transaction.declined`. */
  declineReason?: string | null
  /** Set on `transaction.reversed`. */
  reversedTransactionId?: string | null
}

export type AccountType = 'CHECKING' | 'SAVINGS' | 'BUSINESS' | 'CREDIT_CARD' | 'PREPAID'
export type AccountStatus = 'PENDING' | 'ACTIVE' | 'FROZEN' | 'CLOSED'

export interface AccountStatusEvent extends EventEnvelope<AccountStatusEventType> {
  accountType: AccountType
  currency: string
  /** Null on `account.opened`. */
  previousStatus?: AccountStatus | null
  newStatus: AccountStatus
  reason?: string | null
  /** Defaults to []. */
  changedFields?: string[]
}

export type RecommendedAction = 'NONE' | 'REVIEW' | 'STEP_UP_AUTH' | 'BLOCK_CARD' | 'FREEZE_ACCOUNT'
export type FraudResolution = 'CONFIRMED_FRAUD' | 'FALSE_POSITIVE'

export interface FraudAlertEvent extends EventEnvelope<FraudAlertEventType> {
  alertId: string
  /** 0 to 1000. */
  riskScore: number
  reasonCodes: string[]
  relatedTransactionId?: string | null
  recommendedAction: RecommendedAction
  /** Set on `fraud_alert.resolved`, null on `fraud_alert.raised`. */
  resolution?: FraudResolution | null
}

export type BankingEvent = TransactionEvent | AccountStatusEvent | FraudAlertEvent

export interface FamilyEventMap {
  transactions: TransactionEvent
  accounts: AccountStatusEvent
  fraud: FraudAlertEvent
}

export type FamilyName = keyof FamilyEventMap

export interface EventFamily<F extends FamilyName = FamilyName> {
  name: F
  /**
   * The family's own topic in the three-topic layout (subject
   * `<topic>-value`); the default layout puts every family on
   * {@link DEFAULT_SOURCE_TOPIC} instead.
   */
  defaultTopic: string
  /** File name under `schemas/`. */
  schemaFile: string
  /** Full name of the Avro record. */
  recordName: string
  /** Prefix shared by the family's event types, e.g. `transaction.`. */
  eventTypePrefix: string
  eventTypes: ReadonlyArray<FamilyEventMap[F]['eventType']>
}

export const FAMILIES: { readonly [F in FamilyName]: EventFamily<F> } = Object.freeze({
  transactions: Object.freeze({
    name: 'transactions',
    defaultTopic: 'banking.transactions.v1',
    schemaFile: 'transactions.avsc',
    recordName: 'com.bank.events.v1.TransactionEvent',
    eventTypePrefix: 'transaction.',
    eventTypes: TRANSACTION_EVENT_TYPES
  }),
  accounts: Object.freeze({
    name: 'accounts',
    defaultTopic: 'banking.accounts.v1',
    schemaFile: 'account-status.avsc',
    recordName: 'com.bank.events.v1.AccountStatusEvent',
    eventTypePrefix: 'account.',
    eventTypes: ACCOUNT_STATUS_EVENT_TYPES
  }),
  fraud: Object.freeze({
    name: 'fraud',
    defaultTopic: 'banking.fraud-alerts.v1',
    schemaFile: 'fraud-alerts.avsc',
    recordName: 'com.bank.events.v1.FraudAlertEvent',
    eventTypePrefix: 'fraud_alert.',
    eventTypes: FRAUD_ALERT_EVENT_TYPES
  })
})

export const FAMILY_NAMES: readonly FamilyName[] = Object.freeze(['transactions', 'accounts', 'fraud'])

export function isFamilyName (value: unknown): value is FamilyName {
  return typeof value === 'string' && Object.hasOwn(FAMILIES, value)
}

/** The family an event type belongs to, by prefix; undefined when none. */
export function familyOfEventType (eventType: string): FamilyName | undefined {
  return FAMILY_NAMES.find((name) => eventType.startsWith(FAMILIES[name].eventTypePrefix))
}

/** The family of an Avro record full name; undefined when none. */
export function familyOfRecordName (recordName: string | undefined): FamilyName | undefined {
  return FAMILY_NAMES.find((name) => FAMILIES[name].recordName === recordName)
}

/**
 * Event types a writer schema declares: the `eventType` field's doc reads
 * `One of: a, b, c.` in every family schema, and a family version that adds
 * a type adds it there. Undefined when the doc does not have that form.
 */
export function declaredEventTypes (eventTypeDoc: string | undefined): readonly string[] | undefined {
  const match = /^One of: ([a-z0-9_]+(?:\.[a-z0-9_]+)*(?:, [a-z0-9_]+(?:\.[a-z0-9_]+)*)*)\.?$/.exec(eventTypeDoc?.trim() ?? '')
  return match?.[1]?.split(', ')
}

/**
 * Why `eventType` may not travel in a record of `family`, or undefined when
 * it may: it must carry the family's prefix (`account.opened` is no
 * transaction) and be one of the types the family defines: those its writer
 * schema declares (`declared`, see {@link declaredEventTypes}), or, when the
 * writer schema declares none, those this version knows.
 */
export function eventTypeProblem (family: FamilyName, eventType: unknown, declared?: readonly string[]): string | undefined {
  const { eventTypePrefix, eventTypes } = FAMILIES[family]
  if (typeof eventType !== 'string') return `eventType is not a string in a ${family} record`
  if (!eventType.startsWith(eventTypePrefix)) {
    return `${JSON.stringify(eventType)} is not a ${family} event type (those start with ${JSON.stringify(eventTypePrefix)})`
  }
  const known: readonly string[] = declared ?? eventTypes
  if (!known.includes(eventType)) {
    return `${JSON.stringify(eventType)} is not one of the ${family} event types its schema defines (${known.join(', ')})`
  }
  return undefined
}

/** The default layout: one source topic per account stream, carrying every family. */
export const DEFAULT_SOURCE_TOPIC = 'banking.account-events.v1'

/**
 * How a family's registry subject is named. `topic-record`: Confluent's
 * TopicRecordNameStrategy, `<topic>-<record full name>`, one subject per
 * family on a topic that carries several; `topic`: TopicNameStrategy,
 * `<topic>-value`, one family per topic.
 */
export type SubjectNameStrategy = 'topic' | 'topic-record'

/** Registry subject under TopicNameStrategy. */
export function subjectForTopic (topic: string): string {
  return `${topic}-value`
}

/** Registry subject of a family's record on `topic` under `strategy`. */
export function subjectFor (family: FamilyName, topic: string, strategy: SubjectNameStrategy): string {
  return strategy === 'topic' ? subjectForTopic(topic) : `${topic}-${FAMILIES[family].recordName}`
}

/**
 * Where each family goes and under which subject. A topic that carries more
 * than one family needs one subject per record (`topic-record`); a topic of
 * one family keeps TopicNameStrategy, as the three-topic layout always had.
 */
export interface SourceLayout {
  topics: Readonly<Record<FamilyName, string>>
  strategies: Readonly<Record<FamilyName, SubjectNameStrategy>>
  subjects: Readonly<Record<FamilyName, string>>
}

/**
 * The layout for a producer or the schemas check. `topics` (per family, the
 * others at their three-topic defaults) selects the three-topic layout;
 * otherwise every family goes to `topic`.
 * @param options.topic - defaults to {@link DEFAULT_SOURCE_TOPIC}
 */
export function sourceLayout (options: { topic?: string, topics?: Partial<Record<FamilyName, string>> } = {}): SourceLayout {
  const topics = options.topics === undefined
    ? Object.freeze({ transactions: options.topic ?? DEFAULT_SOURCE_TOPIC, accounts: options.topic ?? DEFAULT_SOURCE_TOPIC, fraud: options.topic ?? DEFAULT_SOURCE_TOPIC })
    : resolveTopics(options.topics)
  const shared = (family: FamilyName): boolean => FAMILY_NAMES.some((other) => other !== family && topics[other] === topics[family])
  const strategies = Object.freeze(Object.fromEntries(FAMILY_NAMES.map((family) => [family, shared(family) ? 'topic-record' : 'topic']))) as Record<FamilyName, SubjectNameStrategy>
  const subjects = Object.freeze(Object.fromEntries(FAMILY_NAMES.map((family) => [family, subjectFor(family, topics[family], strategies[family])]))) as Record<FamilyName, string>
  return Object.freeze({ topics, strategies, subjects })
}

/**
 * Topic per family in the three-topic layout: each family's own topic
 * ({@link EventFamily.defaultTopic}) unless `overrides` names another.
 */
export function resolveTopics (overrides: Partial<Record<FamilyName, string>> = {}): Readonly<Record<FamilyName, string>> {
  return Object.freeze({
    transactions: overrides.transactions ?? FAMILIES.transactions.defaultTopic,
    accounts: overrides.accounts ?? FAMILIES.accounts.defaultTopic,
    fraud: overrides.fraud ?? FAMILIES.fraud.defaultTopic
  })
}

/** An Avro record schema as JSON. */
export interface AvroRecordSchema {
  type: 'record'
  name: string
  namespace?: string
  doc?: string
  fields: Array<{ name: string, type: unknown, doc?: string, default?: unknown }>
}

let schemasDirectory: string | undefined
const schemaCache = new Map<FamilyName, { text: string, schema: AvroRecordSchema }>()

/**
 * The `schemas/` directory: the nearest one above this module holding the
 * family files. Found by walking up so the same code works from
 * `services/events/src` (tests) and `dist/services/events/src` (build).
 */
export function findSchemasDirectory (): string {
  if (schemasDirectory !== undefined) return schemasDirectory
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'schemas')
    if (existsSync(join(candidate, FAMILIES.transactions.schemaFile))) {
      schemasDirectory = candidate
      return candidate
    }
    const parent = resolve(dir, '..')
    if (parent === dir) throw new Error(`no schemas/ directory with ${FAMILIES.transactions.schemaFile} above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

/** A schema file of `schemas/` (not a family's), as compact JSON: the exact string registered. */
export function schemaFileString (fileName: string): string {
  return JSON.stringify(JSON.parse(readFileSync(join(findSchemasDirectory(), fileName), 'utf8')))
}

/**
 * The family's schema as compact JSON: the exact string registered, so the
 * schemas-check CLI and every producer register the same text (one version).
 */
export function familySchemaString (family: FamilyName): string {
  return loadFamilySchema(family).text
}

/** The family's schema, parsed JSON. */
export function familySchema (family: FamilyName): AvroRecordSchema {
  return loadFamilySchema(family).schema
}

function loadFamilySchema (family: FamilyName): { text: string, schema: AvroRecordSchema } {
  let entry = schemaCache.get(family)
  if (entry === undefined) {
    const file = readFileSync(join(findSchemasDirectory(), FAMILIES[family].schemaFile), 'utf8')
    const schema = JSON.parse(file) as AvroRecordSchema
    entry = { text: JSON.stringify(schema), schema }
    schemaCache.set(family, entry)
  }
  return entry
}
