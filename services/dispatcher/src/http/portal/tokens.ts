// Portal links and sessions as signed, self-contained tokens: any instance
// with PORTAL_SESSION_KEY verifies one without asking another. A token is
// `<kind>.<base64url JSON claims>.<base64url HMAC-SHA256>`, the MAC over
// `<kind>.<claims>`, so a link can never pass as a session or the reverse.
// What a signature cannot say (a link already used, a session revoked)
// the ledger says (ledger.ts).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { TENANT_ID_PATTERN } from '../../subscriptions/schema.js'

export type TokenKind = 'link' | 'session'

const PREFIX: Record<TokenKind, string> = { link: 'whpl', session: 'whps' }

export interface PortalClaims {
  /** The portal session's id: the link and the session it becomes share it (revoking it ends both). */
  id: string
  tenantId: string
  /** Expiry, ms since the epoch. */
  exp: number
}

export type TokenCheck =
  | { ok: true, claims: PortalClaims }
  | { ok: false, reason: 'malformed' | 'bad-signature' | 'expired', claims?: PortalClaims }

const ID_PATTERN = /^ps_[A-Za-z0-9_-]{22}$/
const MAX_TOKEN_LENGTH = 512

/** A new session id: `ps_` and 128 random bits. */
export const newSessionId = (): string => `ps_${randomBytes(16).toString('base64url')}`

export const isSessionId = (value: string): boolean => ID_PATTERN.test(value)

const mac = (key: Buffer, signed: string): Buffer => createHmac('sha256', key).update(signed).digest()

export function signToken (kind: TokenKind, claims: PortalClaims, key: Buffer): string {
  const signed = `${PREFIX[kind]}.${Buffer.from(JSON.stringify({ id: claims.id, tenantId: claims.tenantId, exp: claims.exp })).toString('base64url')}`
  return `${signed}.${mac(key, signed).toString('base64url')}`
}

/**
 * Checks a token of `kind`: its shape, its MAC (in constant time), then its
 * expiry against `now`. The claims of an expired but genuine token are
 * given back, so the caller can still name the session.
 */
export function verifyToken (kind: TokenKind, token: string, key: Buffer, now: number): TokenCheck {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' }
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== PREFIX[kind]) return { ok: false, reason: 'malformed' }
  const [prefix, body, signature] = parts as [string, string, string]
  const expected = mac(key, `${prefix}.${body}`)
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' }
  let claims: PortalClaims
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PortalClaims
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (typeof claims.id !== 'string' || !ID_PATTERN.test(claims.id) || typeof claims.tenantId !== 'string' || !TENANT_ID_PATTERN.test(claims.tenantId) || !Number.isSafeInteger(claims.exp)) {
    return { ok: false, reason: 'malformed' }
  }
  if (now >= claims.exp) return { ok: false, reason: 'expired', claims }
  return { ok: true, claims }
}
