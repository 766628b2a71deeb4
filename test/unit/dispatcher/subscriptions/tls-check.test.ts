// mTLS material is parsed with Node's crypto when an endpoint is created,
// changed or imported: PEM look-alikes are refused naming the field, with a
// reason that never quotes the PEM.
import { describe, expect, it } from 'vitest'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { parseSubscriptions } from '../../../../services/dispatcher/src/subscriptions/subscriptions-file.js'
import { tlsMaterialProblem } from '../../../../services/dispatcher/src/subscriptions/tls-check.js'
import { FIXTURE_CERT_PEM, FIXTURE_KEY_PEM, OTHER_CERT_PEM, OTHER_KEY_PEM } from '../../../support/pem-fixtures.js'

const LOOK_ALIKE = '-----BEGIN Z 0S6-----'
const FAKE_CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n'
const ENCRYPTED_KEY = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END ENCRYPTED PRIVATE KEY-----\n'

describe('tlsMaterialProblem', () => {
  it.each([
    ['nothing', undefined],
    ['a CA', { caPem: FIXTURE_CERT_PEM }],
    ['a CA bundle', { caPem: FIXTURE_CERT_PEM + OTHER_CERT_PEM }],
    ['a client certificate and its key', { clientCertPem: FIXTURE_CERT_PEM, clientKeyPem: FIXTURE_KEY_PEM }],
    ['all three', { clientCertPem: OTHER_CERT_PEM, clientKeyPem: OTHER_KEY_PEM, caPem: FIXTURE_CERT_PEM }]
  ])('accepts %s', (_what, tls) => {
    expect(tlsMaterialProblem(tls)).toBeUndefined()
  })

  it.each([
    ['a look-alike CA', { caPem: LOOK_ALIKE }, 'tls.caPem'],
    ['a CA block that does not parse', { caPem: FAKE_CERT }, 'tls.caPem'],
    ['a good CA followed by one that does not parse', { caPem: FIXTURE_CERT_PEM + FAKE_CERT }, 'tls.caPem'],
    ['a look-alike client certificate', { clientCertPem: LOOK_ALIKE, clientKeyPem: FIXTURE_KEY_PEM }, 'tls.clientCertPem'],
    ['a client certificate that does not parse', { clientCertPem: FAKE_CERT, clientKeyPem: FIXTURE_KEY_PEM }, 'tls.clientCertPem'],
    ['a look-alike client key', { clientCertPem: FIXTURE_CERT_PEM, clientKeyPem: LOOK_ALIKE }, 'tls.clientKeyPem'],
    ['an encrypted client key', { clientCertPem: FIXTURE_CERT_PEM, clientKeyPem: ENCRYPTED_KEY }, 'tls.clientKeyPem'],
    ['a certificate given as the key', { clientCertPem: FIXTURE_CERT_PEM, clientKeyPem: FIXTURE_CERT_PEM }, 'tls.clientKeyPem'],
    ['the key of another certificate', { clientCertPem: FIXTURE_CERT_PEM, clientKeyPem: OTHER_KEY_PEM }, 'tls.clientKeyPem'],
    ['a certificate without its key', { clientCertPem: FIXTURE_CERT_PEM }, 'tls.clientKeyPem']
  ])('refuses %s, naming %s without quoting PEM', (_what, tls, field) => {
    const problem = tlsMaterialProblem(tls)
    expect(problem?.field).toBe(field)
    expect(problem?.reason).not.toMatch(/BEGIN|MII/)
  })

  it('names the field under the prefix it is given', () => {
    expect(tlsMaterialProblem({ caPem: LOOK_ALIKE }, 'subscriptions[0].tls')?.field).toBe('subscriptions[0].tls.caPem')
  })
})

describe('the subscriptions file', () => {
  const entry = (tls: Record<string, string>): unknown => ({
    subscriptions: [{ id: 's1', tenantId: 't1', url: 'https://hooks.example.com/in', eventTypes: ['*'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', tls }]
  })

  it('refuses an entry whose PEM does not parse, naming entry and field (WHD_ERR_SUBSCRIPTIONS)', () => {
    expect(() => parseSubscriptions(entry({ caPem: LOOK_ALIKE }), 'file.json', createSsrfPolicy())).toThrow(expect.objectContaining({
      code: 'WHD_ERR_SUBSCRIPTIONS',
      message: expect.stringContaining('file.json: subscriptions[0].tls.caPem: contains no PEM certificate')
    }))
    expect(parseSubscriptions(entry({ caPem: FIXTURE_CERT_PEM }), 'file.json', createSsrfPolicy())[0]?.tls).toEqual({ caPem: FIXTURE_CERT_PEM })
  })
})
