/**
 * Schema registry access for events: a @kafkajs/confluent-schema-registry
 * client that builds writer types with this project's logical types (and
 * caches them by schema id), plus schema-id lookup for the families, cached
 * per subject: one subject per record on a shared topic
 * (TopicRecordNameStrategy, `<topic>-<record full name>`, the default
 * layout) or `<topic>-value` (TopicNameStrategy, one family per topic).
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import avro from 'avsc'
import type { Type } from 'avsc'
import { avroTypeOptions } from './avro.js'
import { lookupSchema, registerSchema, schemaIdExists, type RegistryHttpOptions } from './compatibility.js'
import { DecodeFailureReason, EventDecodeError, RegistryRequestError, RegistryUnavailableError } from './errors.js'
import { DEFAULT_SOURCE_TOPIC, familySchemaString, subjectFor, type FamilyName, type SubjectNameStrategy } from './families.js'

export interface EventRegistryOptions {
  /** Base URL of the Confluent-compatible API (SCHEMA_REGISTRY_URL). */
  url: string
  /**
   * Sent as the client id header.
   * @defaultValue 'webhooks-events'
   */
  clientId?: string
  /**
   * Retries of a failed schema fetch (GET), with exponential backoff from
   * 100 ms, before RegistryUnavailableError.
   * @defaultValue 3
   */
  retries?: number
  /**
   * Register a family's schema when it is not yet under its subject (as
   * Confluent serializers do with auto.register.schemas). When false, a
   * missing schema is an error: run the schemas-check CLI first.
   * @defaultValue true
   */
  autoRegister?: boolean
  /**
   * Deadline of each registration request.
   * @defaultValue 10000
   */
  timeoutMs?: number
}

/** The narrow seam the codec needs; tests may pass a fake. */
export interface SchemaResolver {
  /**
   * Global schema id of the family's schema under its subject on `topic`.
   * With neither argument: the default layout ({@link DEFAULT_SOURCE_TOPIC},
   * TopicRecordNameStrategy). A topic without a strategy keeps
   * TopicNameStrategy (`<topic>-value`), one family per topic.
   */
  schemaId: (family: FamilyName, topic?: string, strategy?: SubjectNameStrategy) => Promise<number>
  /**
   * avsc type of a writer schema. Throws EventDecodeError with reason
   * `unknown_schema_id` (the registry says it has no such id) or
   * `unsupported_schema`, or RegistryUnavailableError.
   */
  writerType: (schemaId: number) => Promise<Type>
}

export interface EventRegistry extends SchemaResolver {
  readonly url: string
  /** The underlying client, configured with the logical types. */
  readonly client: SchemaRegistry
}

/** A @kafkajs/confluent-schema-registry client with the logical types registered. */
export function createSchemaRegistry (options: Pick<EventRegistryOptions, 'url' | 'clientId' | 'retries'>): SchemaRegistry {
  return new SchemaRegistry(
    { host: options.url, clientId: options.clientId ?? 'webhooks-events', retry: { retries: options.retries ?? 3 } },
    { [SchemaType.AVRO]: avroTypeOptions() }
  )
}

export function createEventRegistry (options: EventRegistryOptions): EventRegistry {
  const client = createSchemaRegistry(options)
  const http: RegistryHttpOptions = { url: options.url, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) }
  const autoRegister = options.autoRegister ?? true
  const ids = new Map<string, Promise<number>>()

  async function fetchId (family: FamilyName, subject: string): Promise<number> {
    const schema = familySchemaString(family)
    if (autoRegister) return await registerSchema(http, subject, schema)
    const found = await lookupSchema(http, subject, schema)
    if (found === undefined) {
      throw new RegistryRequestError(
        `the current ${family} schema is not registered under ${subject} and autoRegister is off; run the schemas-check CLI`,
        { status: 404 }
      )
    }
    return found.id
  }

  return {
    url: options.url,
    client,
    schemaId (family, topic, strategy) {
      const subject = topic === undefined
        ? subjectFor(family, DEFAULT_SOURCE_TOPIC, strategy ?? 'topic-record')
        : subjectFor(family, topic, strategy ?? 'topic')
      let id = ids.get(subject)
      if (id === undefined) {
        id = fetchId(family, subject)
        ids.set(subject, id)
        // Failures are not cached: the next call asks again.
        id.catch(() => ids.delete(subject))
      }
      return id
    },
    async writerType (schemaId) {
      let schema: unknown
      try {
        schema = await client.getSchema(schemaId)
      } catch (err) {
        const classified = classifySchemaFetchError(err, schemaId)
        if (classified instanceof EventDecodeError && classified.reason === DecodeFailureReason.UnknownSchemaId) {
          throw await confirmUnknown(http, schemaId, classified)
        }
        throw classified
      }
      if (!avro.Type.isType(schema)) {
        throw new EventDecodeError(DecodeFailureReason.UnsupportedSchema, `schema ${schemaId} is not an Avro schema`, { schemaId })
      }
      return schema as Type
    }
  }
}

/**
 * The client's 404 carries no Confluent error code, so a wrong base URL
 * would look like an unknown id and dead-letter good records. Before
 * calling an id unknown, ask once more and read the error code.
 */
async function confirmUnknown (http: RegistryHttpOptions, schemaId: number, unknown: EventDecodeError): Promise<Error> {
  try {
    if (!await schemaIdExists(http, schemaId)) return unknown
    return new RegistryUnavailableError(`schema ${schemaId} was not found, then found: registry inconsistent, retry`)
  } catch (err) {
    if (err instanceof RegistryUnavailableError) return err
    const status = err instanceof RegistryRequestError ? err.status : undefined
    return new RegistryUnavailableError(
      `schema registry answered 404 for schema ${schemaId} without a Confluent error code; is SCHEMA_REGISTRY_URL right?`,
      { cause: err, ...(status === undefined ? {} : { status }) }
    )
  }
}

/**
 * Maps the client's errors. Only a definite 404 means "unknown id"; the
 * client reports network failures as HTTP 400 (mappersmith's convention),
 * so everything that is not a 404 or a schema the client could not parse
 * is treated as the registry being unavailable: the caller pauses rather
 * than dead-lettering good data.
 */
export function classifySchemaFetchError (err: unknown, schemaId: number): Error {
  const status = (err as { status?: unknown } | null)?.status
  const name = (err as { name?: unknown } | null)?.name
  const message = err instanceof Error ? err.message : String(err)
  if (status === 404) {
    return new EventDecodeError(DecodeFailureReason.UnknownSchemaId, `schema registry has no schema with id ${schemaId}`, { schemaId, cause: err })
  }
  if (name === 'ConfluentSchemaRegistryArgumentError') {
    return new EventDecodeError(DecodeFailureReason.UnsupportedSchema, `schema ${schemaId} cannot be used: ${message}`, { schemaId, cause: err })
  }
  return new RegistryUnavailableError(
    `schema registry unavailable fetching schema ${schemaId}: ${message}`,
    { cause: err, ...(typeof status === 'number' && status !== 400 ? { status } : {}) }
  )
}
