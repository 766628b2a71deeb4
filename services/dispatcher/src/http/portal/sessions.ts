// POST /v1/portal-sessions (mint a one-time sign-in link), POST
// /v1/portal/sign-in (the link becomes a session cookie),
// GET /v1/portal/session, DELETE /v1/portal-sessions/{sessionId}.
import { scopeCovers } from '../../admin-tokens.js'
import type { Handler, RequestContext } from '../admin/context.js'
import { ApiError, notFound, validationError } from '../admin/errors.js'
import { cookieName, type PortalOptions } from './options.js'
import { isSessionId, newSessionId, signToken, verifyToken } from './tokens.js'

export type PortalOperationId = 'createPortalSession' | 'exchangePortalLink' | 'getPortalSession' | 'revokePortalSession'

/** The path of the portal's sign-in page; the link is in the fragment, which browsers never send to a server or in a Referer. */
export const SIGN_IN_PATH = '/portal/sign-in.html'

const disabled = (): ApiError => new ApiError('WHD_ERR_NOT_FOUND', 'the tenant portal is not configured (PORTAL_SESSION_KEY)')

export function portalHandlers (portal: PortalOptions | undefined, now: () => number): Record<PortalOperationId, Handler> {
  const linkTtlMs = (portal?.linkTtlSeconds ?? 600) * 1000
  const sessionTtlMs = (portal?.sessionTtlSeconds ?? 3600) * 1000
  const need = (): PortalOptions => {
    if (portal === undefined) throw disabled()
    return portal
  }
  return {
    async createPortalSession (context: RequestContext) {
      const p = need()
      const { principal } = context
      // A session must not mint itself a longer one.
      if (principal.portalSession !== undefined) throw new ApiError('WHD_ERR_FORBIDDEN', 'a portal session cannot create portal sessions')
      const body = context.body as { tenantId?: string }
      const tenantId = body.tenantId ?? (principal.scope.kind === 'tenant' ? principal.scope.tenantId : undefined)
      if (tenantId === undefined) throw validationError('tenantId', 'is required with an operator token')
      if (!scopeCovers(principal.scope, tenantId)) throw new ApiError('WHD_ERR_FORBIDDEN', 'the token does not cover this tenant')
      const id = newSessionId()
      const expiresAt = now() + linkTtlMs
      const link = signToken('link', { id, tenantId, exp: expiresAt }, p.key)
      const path = `${SIGN_IN_PATH}#${link}`
      context.annotate({ portalSessionId: id, tenantId })
      return {
        status: 201,
        body: { id, tenantId, url: `${p.publicUrl ?? context.origin}${path}`, path, expiresAt: new Date(expiresAt).toISOString(), sessionTtlSeconds: sessionTtlMs / 1000 }
      }
    },

    async exchangePortalLink (context: RequestContext) {
      const p = need()
      const { link } = context.body as { link: string }
      const check = verifyToken('link', link, p.key, now())
      if (!check.ok) {
        throw check.reason === 'expired'
          ? new ApiError('WHD_ERR_PORTAL_LINK_EXPIRED', 'this sign-in link has expired: ask for a new one')
          : new ApiError('WHD_ERR_PORTAL_LINK_INVALID', 'this is not a valid sign-in link')
      }
      const { id, tenantId } = check.claims
      context.annotate({ portalSessionId: id, tenantId })
      if (p.ledger.isRevoked(id)) throw new ApiError('WHD_ERR_PORTAL_LINK_REVOKED', 'this sign-in link was revoked: ask for a new one')
      if (!await p.ledger.claimLink(id, check.claims.exp)) throw new ApiError('WHD_ERR_PORTAL_LINK_USED', 'this sign-in link has been used already: ask for a new one')
      const expiresAt = now() + sessionTtlMs
      const session = signToken('session', { id, tenantId, exp: expiresAt }, p.key)
      const cookie = [
        `${cookieName(p.secureCookie)}=${session}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(sessionTtlMs / 1000)}`,
        ...(p.secureCookie ? ['Secure'] : [])
      ].join('; ')
      return { status: 200, headers: { 'set-cookie': cookie }, body: { id, tenantId, expiresAt: new Date(expiresAt).toISOString() } }
    },

    async getPortalSession (context: RequestContext) {
      const session = context.principal.portalSession
      const { scope } = context.principal
      return {
        status: 200,
        body: {
          kind: session === undefined ? 'token' : 'portal-session',
          ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}),
          ...(session === undefined ? {} : { id: session.id, expiresAt: new Date(session.expiresAt).toISOString() })
        }
      }
    },

    async revokePortalSession (context: RequestContext) {
      const p = need()
      const id = String(context.params?.sessionId ?? '')
      const { principal } = context
      if (!isSessionId(id)) throw notFound('portal session')
      // Operators revoke any session; a session signs itself out. A tenant
      // token cannot tell whose a stateless id is, so it may not.
      if (principal.scope.kind !== 'operator' && principal.portalSession?.id !== id) throw new ApiError('WHD_ERR_FORBIDDEN', 'only an operator token or the session itself can revoke a portal session')
      await p.ledger.revoke(id, now() + Math.max(linkTtlMs, sessionTtlMs))
      context.annotate({ portalSessionId: id })
      const signOut = principal.portalSession?.id === id ? { 'set-cookie': `${cookieName(p.secureCookie)}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${p.secureCookie ? '; Secure' : ''}` } : undefined
      return { status: 204, ...(signOut === undefined ? {} : { headers: signOut }) }
    }
  }
}
