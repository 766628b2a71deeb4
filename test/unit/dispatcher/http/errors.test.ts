import { describe, expect, it } from 'vitest'
import { ApiError, apiErrorStatus, fromDependencyError } from '../../../../services/dispatcher/src/http/admin/errors.js'
import {
  EndpointUrlBlockedError,
  EndpointUrlInvalidError,
  SubscriptionNotFoundError,
  SubscriptionStoreUnavailableError,
  SubscriptionValidationError
} from '../../../../services/dispatcher/src/errors.js'

describe('ApiError', () => {
  it('carries its status and writes the error body', () => {
    const error = new ApiError('WHD_ERR_VALIDATION', 'url: must be a string', { field: 'url' })
    expect(error.status).toBe(400)
    expect(error.toBody()).toEqual({ error: { code: 'WHD_ERR_VALIDATION', message: 'url: must be a string', field: 'url' } })
    expect(new ApiError('WHD_ERR_NOT_FOUND', 'x').toBody()).toEqual({ error: { code: 'WHD_ERR_NOT_FOUND', message: 'x' } })
  })

  it('maps each code to its status', () => {
    expect(apiErrorStatus).toMatchObject({
      WHD_ERR_BAD_REQUEST: 400,
      WHD_ERR_VALIDATION: 400,
      WHD_ERR_URL_INVALID: 400,
      WHD_ERR_SSRF_BLOCKED: 400,
      WHD_ERR_UNAUTHORIZED: 401,
      WHD_ERR_FORBIDDEN: 403,
      WHD_ERR_NOT_FOUND: 404,
      WHD_ERR_METHOD_NOT_ALLOWED: 405,
      WHD_ERR_CONFLICT: 409,
      WHD_ERR_PAYLOAD_TOO_LARGE: 413,
      WHD_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
      WHD_ERR_INTERNAL: 500,
      WHD_ERR_UNAVAILABLE: 503
    })
  })
})

describe('fromDependencyError', () => {
  it.each([
    ['the store\'s not-found', new SubscriptionNotFoundError('ep-1'), { code: 'WHD_ERR_NOT_FOUND', status: 404, message: 'endpoint not found' }],
    ['another *_NOT_FOUND', Object.assign(new Error('gone'), { code: 'WHD_ERR_SUBSCRIPTION_NOT_FOUND' }), { code: 'WHD_ERR_NOT_FOUND', status: 404 }],
    ['a validation error', new SubscriptionValidationError('eventTypes[2]', 'must be an event type'), { code: 'WHD_ERR_VALIDATION', status: 400, field: 'eventTypes[2]', message: 'eventTypes[2]: must be an event type' }],
    ['an invalid URL', new EndpointUrlInvalidError('url', 'the scheme must be https'), { code: 'WHD_ERR_URL_INVALID', status: 400, field: 'url' }],
    ['a blocked URL', new EndpointUrlBlockedError('url', 'private range'), { code: 'WHD_ERR_SSRF_BLOCKED', status: 400, field: 'url' }],
    ['a conflict', Object.assign(new Error('id taken'), { code: 'WHD_ERR_CONFLICT' }), { code: 'WHD_ERR_CONFLICT', status: 409, message: 'id taken' }],
    ['an *_EXISTS', Object.assign(new Error('exists'), { code: 'WHD_ERR_ENDPOINT_EXISTS' }), { code: 'WHD_ERR_CONFLICT', status: 409 }],
    ['an unavailable store', new SubscriptionStoreUnavailableError('Kafka unreachable at 10.0.0.5:9092'), { code: 'WHD_ERR_UNAVAILABLE', status: 503 }]
  ])('maps %s', (_name, err, expected) => {
    expect(fromDependencyError(err)).toMatchObject(expected)
  })

  it('does not pass on the message of an unavailable dependency', () => {
    expect(fromDependencyError(new SubscriptionStoreUnavailableError('Kafka unreachable at 10.0.0.5:9092'))?.message).not.toContain('10.0.0.5')
  })

  it.each([
    ['a plain error', new Error('boom')],
    ['an unknown code', Object.assign(new Error('x'), { code: 'WHD_ERR_DECODE' })],
    ['a non-error', 'boom'],
    ['null', null]
  ])('leaves %s to the 500 path', (_name, err) => {
    expect(fromDependencyError(err)).toBeUndefined()
  })
})
