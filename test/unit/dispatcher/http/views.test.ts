import { describe, expect, it } from 'vitest'
import { deadLetterView, endpointStatusView, endpointView, stateOf } from '../../../../services/dispatcher/src/http/admin/views.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const subscription: Subscription = {
  id: 'ep-1',
  tenantId: 'tenant-001',
  url: 'https://hooks.example/x',
  eventTypes: ['transaction.*'],
  secrets: ['whsec_c2VjcmV0LW9uZQ==', 'whsec_c2VjcmV0LXR3bw=='],
  enabled: true,
  paused: false,
  revision: 4,
  tls: { clientCertPem: '-----BEGIN CERTIFICATE-----', clientKeyPem: '-----BEGIN PRIVATE KEY-----' },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-02T00:00:00.000Z'
}

describe('endpointView', () => {
  it('shows no secret and no client key, only how many secrets sign', () => {
    const view = endpointView(subscription)
    const text = JSON.stringify(view)
    expect(text).not.toContain('whsec_')
    expect(text).not.toContain('PRIVATE KEY')
    expect(text).not.toContain('CERTIFICATE')
    expect(view).toEqual({
      id: 'ep-1',
      tenantId: 'tenant-001',
      revision: 4,
      url: 'https://hooks.example/x',
      eventTypes: ['transaction.*'],
      state: 'enabled',
      enabled: true,
      paused: false,
      activeSecrets: 2,
      tls: { clientCertificate: true, caCertificate: false },
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-02T00:00:00.000Z'
    })
  })

  it('does not expose fields it does not know', () => {
    const extended = { ...subscription, encryptedKey: 'k', keyId: 'key-1' } as Subscription
    expect(Object.keys(endpointView(extended))).not.toContain('encryptedKey')
  })

  it('shows the disabled reason only while disabled', () => {
    expect(endpointView({ ...subscription, enabled: false, disabledReason: '410 Gone' })).toMatchObject({ state: 'disabled', disabledReason: '410 Gone' })
    expect(endpointView({ ...subscription, enabled: true, disabledReason: 'stale' }).disabledReason).toBeUndefined()
  })
})

describe('stateOf', () => {
  it.each([
    [{ enabled: true }, 'enabled'],
    [{ enabled: true, paused: true }, 'paused'],
    [{ enabled: false, paused: true }, 'disabled'],
    [{ enabled: false }, 'disabled']
  ])('%j is %s', (fields, state) => {
    expect(stateOf(fields)).toBe(state)
  })
})

describe('endpointStatusView', () => {
  it('combines the endpoint state with its health, times as ISO-8601', () => {
    expect(endpointStatusView({ ...subscription, enabled: false }, {
      recentSuccesses: 1, recentFailures: 2, circuit: 'open', lastError: 'e'.repeat(600), lastAttemptAt: 0, disabledReason: 'continuous failure'
    })).toEqual({ id: 'ep-1', state: 'disabled', disabledReason: 'continuous failure', circuit: 'open', recentSuccesses: 1, recentFailures: 2, lastError: 'e'.repeat(500), lastAttemptAt: '1970-01-01T00:00:00.000Z' })
  })
})

describe('deadLetterView', () => {
  it('copies the metadata and formats times', () => {
    expect(deadLetterView({ id: 't:1:5', topic: 't', partition: 1, offset: '5', state: 'dead', accountId: 'a', deadLetteredAt: 1_000, attempts: 0 }))
      .toEqual({ id: 't:1:5', topic: 't', partition: 1, offset: '5', state: 'dead', accountId: 'a', deadLetteredAt: '1970-01-01T00:00:01.000Z', attempts: 0 })
  })

  it('shows where a letter stands in its lifecycle', () => {
    expect(deadLetterView({ id: 't:1:5', topic: 't', partition: 1, offset: '5', state: 'delivered', stateAt: 3_000, redriveId: 'r-1', redrivenAt: 2_000, redrivenBy: 'admin-api:op', redrives: 2, redriveOf: 't:0:1' }))
      .toEqual({ id: 't:1:5', topic: 't', partition: 1, offset: '5', state: 'delivered', stateAt: '1970-01-01T00:00:03.000Z', redriveId: 'r-1', redrivenAt: '1970-01-01T00:00:02.000Z', redrivenBy: 'admin-api:op', redrives: 2, redriveOf: 't:0:1' })
  })
})
