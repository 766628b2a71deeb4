// Request and response schemas of the portal-session routes.
import { Type } from '@sinclair/typebox'
import { TenantId } from '../../subscriptions/schema.js'

export const SESSION_ID_PATTERN_SOURCE = '^ps_[A-Za-z0-9_-]{22}$'

export const PortalSessionCreate = Type.Object({
  tenantId: Type.Optional({ ...TenantId, description: 'The tenant whose portal the link opens. Required with an operator token; a tenant token may leave it out or repeat its own tenant (else 403).' })
}, { additionalProperties: false })

export const PortalLinkExchange = Type.Object({
  link: Type.String({ minLength: 1, maxLength: 512, description: 'The token after `#` in the sign-in link.' })
}, { additionalProperties: false })

export const SessionIdParams = Type.Object({ sessionId: Type.String({ pattern: SESSION_ID_PATTERN_SOURCE, description: 'The portal session\'s id (ps_…), as POST /v1/portal-sessions answered it.' }) })

const isoTime = Type.String({ format: 'date-time' })

export const PortalLinkSchema = Type.Object({
  id: Type.String({ description: 'The session\'s id: revoke it with DELETE /v1/portal-sessions/{id} (ends the link and the session it became).' }),
  tenantId: Type.String(),
  url: Type.String({ description: 'The one-time sign-in link: hand it to the tenant\'s user. The token is in the fragment, which browsers never send to servers.' }),
  path: Type.String({ description: 'The link without its origin.' }),
  expiresAt: { ...isoTime, description: 'The link must be used before this (PORTAL_LINK_TTL_SECONDS).' },
  sessionTtlSeconds: Type.Integer({ description: 'How long the session lasts once the link is used (PORTAL_SESSION_TTL_SECONDS).' })
}, { $id: 'PortalLink' })

export const PortalSessionSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  expiresAt: isoTime
}, { $id: 'PortalSession', description: 'A portal session; the session itself travels in an HttpOnly, SameSite=Strict cookie.' })

export const PrincipalSchema = Type.Object({
  kind: Type.Union([Type.Literal('token'), Type.Literal('portal-session')]),
  tenantId: Type.Optional(Type.String({ description: 'Absent for an operator token.' })),
  id: Type.Optional(Type.String({ description: 'The portal session\'s id.' })),
  expiresAt: Type.Optional(isoTime)
}, { $id: 'Principal', description: 'Who the caller is.' })

export const portalSchemas = [PortalLinkSchema, PortalSessionSchema, PrincipalSchema]
