import { describe, expect, it } from 'vitest'
import {
  EventDecodeError, EventsError, EventValidationError, RegistryRequestError, RegistryUnavailableError, SchemaIncompatibleError
} from '../../../services/events/src/index.js'

describe('errors', () => {
  it.each([
    [new EventDecodeError('corrupt_avro', 'm'), 'EventDecodeError', 'WHE_ERR_DECODE', false],
    [new EventValidationError([{ field: 'amount', message: 'bad' }]), 'EventValidationError', 'WHE_ERR_VALIDATION', false],
    [new RegistryUnavailableError('m'), 'RegistryUnavailableError', 'WHE_ERR_REGISTRY_UNAVAILABLE', true],
    [new RegistryRequestError('m', { status: 422 }), 'RegistryRequestError', 'WHE_ERR_REGISTRY_REQUEST', false],
    [new SchemaIncompatibleError('s-value', []), 'SchemaIncompatibleError', 'WHE_ERR_SCHEMA_INCOMPATIBLE', false]
  ])('%s has name %s, code %s, retriable %s', (error, name, code, retriable) => {
    expect(error).toBeInstanceOf(EventsError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe(name)
    expect(error.code).toBe(code)
    expect((error.constructor as unknown as { code: string }).code).toBe(code)
    expect(error.retriable).toBe(retriable)
  })

  it('keeps the cause and the details', () => {
    const cause = new Error('root')
    const decode = new EventDecodeError('unknown_schema_id', 'm', { schemaId: 7, cause })
    expect(decode.cause).toBe(cause)
    expect(decode.reason).toBe('unknown_schema_id')
    expect(decode.schemaId).toBe(7)
    const validation = new EventValidationError([{ field: 'merchant.mcc', message: 'must be four digits' }], { family: 'transactions' })
    expect(validation.field).toBe('merchant.mcc')
    expect(validation.message).toBe('invalid transactions event: merchant.mcc: must be four digits')
    const incompatible = new SchemaIncompatibleError('t-value', ['field x has no default'])
    expect(incompatible.message).toContain('t-value: field x has no default')
  })
})
