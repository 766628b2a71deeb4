export * from './errors.js'
export * from './families.js'
export {
  DecimalType, decimalProblem, formatDecimal, fromTwosComplement, normalizeDecimal, parseDecimal, toTwosComplement,
  type DecimalSpec
} from './decimal.js'
export { TimestampMillisType } from './timestamp.js'
export { retryRetriable } from './retriable.js'
export { keptLookups, type KeptLookups } from './kept-lookups.js'
export { LOGICAL_TYPES, avroTypeOptions, familyType } from './avro.js'
export { findEventIssues, validateEvent } from './validate.js'
export {
  classifySchemaFetchError, createEventRegistry, createSchemaRegistry,
  type EventRegistry, type EventRegistryOptions, type SchemaResolver
} from './registry.js'
export {
  MAGIC_BYTE, WIRE_HEADER_LENGTH, createEventCodec, encodeBody, frameWire, parseWireHeader,
  type DecodedEvent, type EventCodec
} from './codec.js'
export * from './compatibility.js'
export { checkFamilySchemas, describeFamilyCheck, type FamilyCheck } from './schemas-check.js'
export { quietKafkajsTimerWarning } from './kafkajs-warnings.js'
export { DEFAULT_KAFKA_COMPRESSION, compressionIds, compressionNameOf, compressionNames, parseCompressionName, type CompressionName } from './compression/codecs.js'
export { kafkaCompressionType, registerKafkaCodecs } from './compression/register.js'
export { undecodableBatchOf, type UndecodableBatch } from './compression/undecodable-batch.js'
export { JavaCompatiblePartitioner, javaPartition, keyBytes, murmur2, toPositive } from './partitioner.js'
