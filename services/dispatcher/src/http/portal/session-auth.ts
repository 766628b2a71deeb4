// Authenticating a portal session: the cookie set at sign-in, checked
// like a bearer token (signature and expiry here, revocation in the
// ledger), and guarded against cross-site requests.
import type { Principal } from '../../admin-tokens.js'
import { ApiError } from '../admin/errors.js'
import { cookieName, PORTAL_REQUEST_HEADER, type PortalOptions } from './options.js'
import { verifyToken } from './tokens.js'

/** The value of cookie `name` in a Cookie header, if any. */
export function cookieValue (header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

interface SessionRequest {
  headers: Record<string, string | string[] | undefined>
  /** `https://host:port` the request came to. */
  origin: string
}

/**
 * The principal of a request that carries a portal session cookie and no
 * bearer token; undefined when it carries no cookie. Throws 401
 * WHD_ERR_PORTAL_SESSION_ENDED for an expired, revoked or forged session,
 * and 403 WHD_ERR_FORBIDDEN for a call without the portal's header or from
 * another origin (CSRF: the SameSite=Strict cookie is the first guard, this
 * the second).
 */
export function portalPrincipal (request: SessionRequest, portal: PortalOptions, now: number): Principal | undefined {
  const cookie = request.headers.cookie
  const token = cookieValue(typeof cookie === 'string' ? cookie : undefined, cookieName(portal.secureCookie))
  if (token === undefined || token === '') return undefined
  const check = verifyToken('session', token, portal.key, now)
  if (!check.ok) throw new ApiError('WHD_ERR_PORTAL_SESSION_ENDED', check.reason === 'expired' ? 'the portal session has expired: ask for a new sign-in link' : 'the portal session is not valid: ask for a new sign-in link')
  if (portal.ledger.isRevoked(check.claims.id)) throw new ApiError('WHD_ERR_PORTAL_SESSION_ENDED', 'the portal session was revoked: ask for a new sign-in link')
  if (request.headers[PORTAL_REQUEST_HEADER] !== '1') throw new ApiError('WHD_ERR_FORBIDDEN', `portal calls carry the ${PORTAL_REQUEST_HEADER} header`)
  // The origin the request reached, or the one links name (PORTAL_PUBLIC_URL:
  // behind a proxy that ends TLS, the browser's origin is https while this
  // server sees http).
  const origin = request.headers.origin
  if (typeof origin === 'string' && origin !== request.origin && origin !== portal.publicUrl) throw new ApiError('WHD_ERR_FORBIDDEN', 'cross-origin portal calls are refused')
  return {
    scope: { kind: 'tenant', tenantId: check.claims.tenantId },
    tokenId: `portal:${check.claims.id}`,
    portalSession: { id: check.claims.id, expiresAt: check.claims.exp }
  }
}
