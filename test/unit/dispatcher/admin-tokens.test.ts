import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { authenticate, hashToken, parseAdminTokens, scopeCovers } from '../../../services/dispatcher/src/admin-tokens.js'

const plainTenant = 'tenant-token-0123456789abcdefXYZ'
const operatorToken = 'operator-token-0123456789abcdef/+='
const sha = (token: string): string => createHash('sha256').update(token).digest('hex')

describe('parseAdminTokens', () => {
  it('reads hashed and plain tokens with tenant and operator scopes', () => {
    const tokens = parseAdminTokens(` ${sha(operatorToken)}:* , ${plainTenant}:tenant-001 ,`)
    expect(tokens.map((t) => t.scope)).toEqual([{ kind: 'operator' }, { kind: 'tenant', tenantId: 'tenant-001' }])
    expect(tokens[0]?.hash).toEqual(hashToken(operatorToken))
    expect(tokens[1]?.hash).toEqual(hashToken(plainTenant))
    expect(tokens[1]?.id).toBe(sha(plainTenant).slice(0, 12))
    expect(Object.isFrozen(tokens)).toBe(true)
  })

  it('accepts an uppercase hash and treats it as a hash', () => {
    const [token] = parseAdminTokens(`${sha(operatorToken).toUpperCase()}:*`)
    expect(authenticate(`Bearer ${operatorToken}`, [token!])).toMatchObject({ scope: { kind: 'operator' } })
  })

  it('means no tokens for an empty value', () => {
    expect(parseAdminTokens('')).toEqual([])
    expect(parseAdminTokens(' , ')).toEqual([])
  })

  it.each([
    ['no scope', plainTenant, /entry 1 must be/],
    ['an empty scope', `${plainTenant}:`, /entry 1 must be/],
    ['an empty token', ':tenant-001', /entry 1 must be/],
    ['a bad tenant id', `${plainTenant}:tenant 001`, /entry 1: scope "tenant 001"/],
    ['a short plain token', 'short-token:tenant-001', /entry 1: a plain token must be 24/],
    ['a token with spaces', 'a token with spaces in it 0000:tenant-001', /plain token/],
    ['a repeated token', `${plainTenant}:a,${sha(plainTenant)}:b`, /entry 2: the same token appears twice/]
  ])('refuses %s, naming ADMIN_TOKENS and never echoing the token', (_name, raw, message) => {
    let error: { code?: string, variable?: string, message: string } | undefined
    try {
      parseAdminTokens(raw)
    } catch (err) {
      error = err as typeof error
    }
    expect(error).toMatchObject({ code: 'WHD_ERR_CONFIG', variable: 'ADMIN_TOKENS' })
    expect(error?.message).toMatch(message)
    expect(error?.message).not.toContain(plainTenant)
  })
})

describe('authenticate', () => {
  const tokens = parseAdminTokens(`${sha(operatorToken)}:*,${plainTenant}:tenant-001`)

  it('maps a valid bearer token to its scope and token id', () => {
    expect(authenticate(`Bearer ${plainTenant}`, tokens)).toEqual({ scope: { kind: 'tenant', tenantId: 'tenant-001' }, tokenId: sha(plainTenant).slice(0, 12) })
    expect(authenticate(`bearer ${operatorToken}`, tokens)).toMatchObject({ scope: { kind: 'operator' } })
  })

  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['Bearer', 'invalid'],
    [`Basic ${plainTenant}`, 'invalid'],
    [`Bearer ${plainTenant}x`, 'invalid'],
    [`Bearer ${plainTenant} extra`, 'invalid'],
    [`Bearer ${sha(plainTenant)}`, 'invalid'],
    [`Bearer ${'a'.repeat(2000)}`, 'invalid']
  ])('answers %j with %s', (header, expected) => {
    expect(authenticate(header, tokens)).toBe(expected)
  })

  it('refuses everything when no tokens are configured', () => {
    expect(authenticate(`Bearer ${plainTenant}`, [])).toBe('invalid')
  })
})

describe('scopeCovers', () => {
  it('lets operators cover every tenant and a tenant only itself', () => {
    expect(scopeCovers({ kind: 'operator' }, 'x')).toBe(true)
    expect(scopeCovers({ kind: 'tenant', tenantId: 'a' }, 'a')).toBe(true)
    expect(scopeCovers({ kind: 'tenant', tenantId: 'a' }, 'b')).toBe(false)
  })
})
