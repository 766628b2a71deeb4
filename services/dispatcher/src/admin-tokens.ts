// Bearer-token authentication of the admin API (DESIGN §6, C6). Tokens come
// from configuration, preferably as SHA-256 hashes, and each one maps to a
// scope: one tenant, or every tenant for platform operators.
import { createHash, timingSafeEqual } from 'node:crypto'
import { ConfigError } from './errors.js'
import { TENANT_ID_PATTERN } from './subscriptions/schema.js'

export { TENANT_ID_PATTERN }

/** What a token may see and change. */
export type Scope =
  | { kind: 'operator' }
  | { kind: 'tenant', tenantId: string }

/** One configured token: the SHA-256 of the token, never the token itself. */
export interface AdminToken {
  /** SHA-256 of the token's UTF-8 bytes (32 bytes). */
  readonly hash: Buffer
  readonly scope: Scope
  /**
   * First 12 hex digits of the hash: names the token in audit logs without
   * revealing it (a prefix of a hash of a high-entropy token).
   */
  readonly id: string
}

/** An authenticated caller. */
export interface Principal {
  scope: Scope
  /** {@link AdminToken.id} of the token used; `portal:<session id>` for a portal session. */
  tokenId: string
  /** Set when the caller is a tenant portal session (a cookie), not a bearer token. */
  portalSession?: { id: string, expiresAt: number }
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/
/** Plain tokens shorter than this are refused: a bearer token must not be guessable. */
export const MIN_PLAIN_TOKEN_LENGTH = 24
const MAX_TOKEN_LENGTH = 1024
// RFC 6750 §2.1 b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** SHA-256 of a token, as stored in {@link AdminToken.hash}. */
export function hashToken (token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/**
 * Parses `ADMIN_TOKENS`: comma-separated `<token>:<scope>` entries, where
 * `<token>` is the lowercase or uppercase hex SHA-256 of the token
 * (64 hex digits, preferred: the environment then holds no usable secret) or
 * the plain token itself (at least {@link MIN_PLAIN_TOKEN_LENGTH} characters,
 * not 64 hex digits), and `<scope>` is a tenant id or `*` for operators.
 * Whitespace around entries is ignored; an empty value means no tokens (every
 * call is refused).
 *
 * Example: `ADMIN_TOKENS="9f86d0…0f00a08:tenant-001,5e884898…42d1542d8:*"`.
 * Produce a hash with `printf %s "$TOKEN" | sha256sum`.
 *
 * Throws a {@link ConfigError} naming `variable`; the message never contains
 * a token.
 */
export function parseAdminTokens (raw: string, variable = 'ADMIN_TOKENS'): readonly AdminToken[] {
  const tokens: AdminToken[] = []
  const seen = new Set<string>()
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`
    // Tenant ids hold no colon, so the last one separates: a plain token may contain colons.
    const colon = entry.lastIndexOf(':')
    if (colon <= 0 || colon === entry.length - 1) {
      throw new ConfigError(variable, `${where} must be "<sha256-hex-or-token>:<tenant-id or *>"`)
    }
    const secret = entry.slice(0, colon).trim()
    const scopeText = entry.slice(colon + 1).trim()
    let scope: Scope
    if (scopeText === '*') scope = { kind: 'operator' }
    else if (TENANT_ID_PATTERN.test(scopeText)) scope = { kind: 'tenant', tenantId: scopeText }
    else throw new ConfigError(variable, `${where}: scope "${scopeText}" is neither "*" nor a tenant id (${TENANT_ID_PATTERN.source})`)
    let hash: Buffer
    if (SHA256_HEX.test(secret)) {
      hash = Buffer.from(secret, 'hex')
    } else {
      if (secret.length < MIN_PLAIN_TOKEN_LENGTH || secret.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(secret)) {
        throw new ConfigError(variable, `${where}: a plain token must be ${MIN_PLAIN_TOKEN_LENGTH}–${MAX_TOKEN_LENGTH} characters of [A-Za-z0-9-._~+/] (or give its SHA-256 as 64 hex digits)`)
      }
      hash = hashToken(secret)
    }
    const hex = hash.toString('hex')
    if (seen.has(hex)) throw new ConfigError(variable, `${where}: the same token appears twice`)
    seen.add(hex)
    tokens.push(Object.freeze({ hash, scope: Object.freeze(scope), id: hex.slice(0, 12) }))
  })
  return Object.freeze(tokens)
}

/** Why a request is not authenticated (RFC 6750 §3.1 error codes). */
export type AuthFailure = 'missing' | 'invalid'

/**
 * Authenticates an `Authorization` header value against the tokens. The
 * presented token is hashed and compared with every configured hash in
 * constant time, without stopping at a match, so the time taken says nothing
 * about which (or whether a) token matched.
 */
export function authenticate (authorization: string | undefined, tokens: readonly AdminToken[]): Principal | AuthFailure {
  if (authorization === undefined || authorization.trim() === '') return 'missing'
  const match = /^Bearer +(\S+) *$/i.exec(authorization)
  const token = match?.[1]
  if (token === undefined || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) return 'invalid'
  const presented = hashToken(token)
  let found: AdminToken | undefined
  for (const candidate of tokens) {
    if (timingSafeEqual(presented, candidate.hash) && found === undefined) found = candidate
  }
  return found === undefined ? 'invalid' : { scope: found.scope, tokenId: found.id }
}

/** Whether the scope covers a tenant's resources. */
export function scopeCovers (scope: Scope, tenantId: string): boolean {
  return scope.kind === 'operator' || scope.tenantId === tenantId
}
