// Handlers of /v1/endpoints: CRUD, secrets, state changes, test event and
// status. Tenant isolation (DESIGN C6): a tenant token only ever reaches its
// own tenant's endpoints; any other id answers 404 exactly as an unknown one
// does, so ids of other tenants cannot be probed.
import type { EndpointUrlCheck } from '../../delivery/ssrf/endpoint-url.js'
import type { EndpointCreate, EndpointPatch } from '../../subscriptions/schema.js'
import { subscriptionLimits } from '../../subscriptions/schema.js'
import type { ListQuery, SubscriptionInput, SubscriptionState, SubscriptionStore } from '../../subscriptions/store.js'
import type { Subscription } from '../../subscriptions/types.js'
import { scopeCovers, type Scope } from '../../admin-tokens.js'
import { EndpointQuarantinedError } from '../../errors.js'
import type { Handler, Reply, RequestContext } from './context.js'
import { ApiError, notFound } from './errors.js'
import { RateLimiter, retryAfterSeconds, type AdminQuotas } from './quotas.js'
import { etagOf } from './requests.js'
import type { CatalogOperationId } from './event-types.js'
import type { PortalOperationId } from '../portal/sessions.js'
import type { ReplayOperationId } from './replays.js'
import type { HistoryOperationId } from './history.js'
import type { OperationId } from './routes.js'
import type { EndpointStatusSource, SendTestEvent } from './types.js'
import { endpointStatusView, endpointView } from './views.js'

export interface EndpointHandlerDeps {
  store: SubscriptionStore
  sendTestEvent: SendTestEvent
  endpointStatus: EndpointStatusSource
  /** Closes the endpoint's circuit on this instance and releases what it holds. */
  probeEndpoint: (id: string) => void
  ssrfCheck?: (url: string) => EndpointUrlCheck
  quotas: Pick<AdminQuotas, 'maxEndpointsPerTenant' | 'testEventsPerMinute'>
  now: () => number
}

/** The reason recorded when an endpoint is disabled through the API without one. */
export const DEFAULT_DISABLE_REASON = 'disabled through the admin API'

const ok = (body: unknown): Reply => ({ status: 200, body })

/** The endpoint, with its revision as the ETag. */
const withEtag = (subscription: Subscription): Reply => ({
  status: 200,
  body: endpointView(subscription),
  headers: subscription.revision === undefined ? {} : { etag: etagOf(subscription.revision) }
})

function forbiddenTenant (): ApiError {
  return new ApiError('WHD_ERR_FORBIDDEN', 'a tenant token acts on its own tenant only; tenantId must be omitted or equal to it', { field: 'tenantId' })
}

/** The tenant a request acts for: its token's, or the one an operator names. */
function actingTenant (scope: Scope, requested: string | undefined): string | undefined {
  if (scope.kind === 'operator') return requested
  if (requested !== undefined && requested !== scope.tenantId) throw forbiddenTenant()
  return scope.tenantId
}

export type EndpointOperationId = Exclude<OperationId, 'health' | 'openApiDocument' | 'listDeadLetters' | 'redriveDeadLetters' | HistoryOperationId | 'resendEvent' | ReplayOperationId | CatalogOperationId | PortalOperationId>

export function endpointHandlers (deps: EndpointHandlerDeps): Record<EndpointOperationId, Handler> {
  const { store } = deps

  /** The endpoint named in the path: found in the caller's scope before the request reached the handler. */
  const owned = (context: RequestContext): Subscription => {
    if (context.endpoint === undefined) throw notFound()
    return context.endpoint
  }
  const testEvents = new RateLimiter({ perMs: deps.quotas.testEventsPerMinute / 60_000, burst: deps.quotas.testEventsPerMinute, now: deps.now })
  // Creates under way per tenant: two at once through this instance cannot both take the last place.
  const creating = new Map<string, number>()
  const claimEndpointPlace = (tenantId: string): () => void => {
    const pending = creating.get(tenantId) ?? 0
    const existing = store.all().filter((s) => s.tenantId === tenantId).length
    if (existing + pending >= deps.quotas.maxEndpointsPerTenant) {
      throw new ApiError('WHD_ERR_QUOTA_EXCEEDED', `tenant ${tenantId} has ${deps.quotas.maxEndpointsPerTenant} endpoints, the most allowed; delete one first`)
    }
    creating.set(tenantId, pending + 1)
    return () => {
      const left = (creating.get(tenantId) ?? 1) - 1
      if (left === 0) creating.delete(tenantId)
      else creating.set(tenantId, left)
    }
  }
  const condition = (context: RequestContext): { ifRevision?: number } => (context.ifRevision === undefined ? {} : { ifRevision: context.ifRevision })

  const checkUrl = (url: string | undefined): void => {
    if (url === undefined || deps.ssrfCheck === undefined) return
    const verdict = deps.ssrfCheck(url)
    if (!verdict.ok) throw new ApiError(verdict.code, `url: ${verdict.reason}`, { field: 'url' })
  }

  return {
    async listEndpoints (context) {
      const query = context.query as { limit: number, cursor?: string, eventType?: string, state?: SubscriptionState, tenantId?: string }
      const tenantId = actingTenant(context.principal.scope, query.tenantId)
      const request: ListQuery = { limit: query.limit }
      if (query.cursor !== undefined) request.cursor = query.cursor
      if (query.eventType !== undefined) request.eventType = query.eventType
      if (query.state !== undefined) request.state = query.state
      const page = store.list({ ...request, ...(tenantId === undefined ? {} : { tenantId }) })
      // The store already filtered by tenant; this keeps a store bug from becoming a leak.
      const items = page.items.filter((s) => scopeCovers(context.principal.scope, s.tenantId)).map(endpointView)
      return ok(page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor })
    },

    async createEndpoint (context) {
      const request = context.body as EndpointCreate
      const tenantId = actingTenant(context.principal.scope, request.tenantId)
      if (tenantId === undefined) throw new ApiError('WHD_ERR_VALIDATION', 'tenantId: is required with an operator token', { field: 'tenantId' })
      checkUrl(request.url)
      const input: SubscriptionInput = { ...request, tenantId }
      const release = claimEndpointPlace(tenantId)
      let created
      try {
        created = await store.create(input)
      } finally {
        release()
      }
      const { subscription, secret } = created
      context.annotate({ endpointId: subscription.id, tenantId })
      return {
        status: 201,
        headers: { location: `/v1/endpoints/${encodeURIComponent(subscription.id)}` },
        body: { endpoint: endpointView(subscription), secret }
      }
    },

    async getEndpoint (context) {
      return withEtag(owned(context))
    },

    async updateEndpoint (context) {
      const { id } = owned(context)
      const patch = context.body as EndpointPatch
      checkUrl(patch.url)
      return withEtag(await store.update(id, patch, condition(context)))
    },

    async deleteEndpoint (context) {
      const { id } = owned(context)
      await store.delete(id, condition(context))
      return { status: 204 }
    },

    async rotateEndpointSecret (context) {
      const { id } = owned(context)
      const graceSeconds = (context.body as { graceSeconds?: number }).graceSeconds ?? subscriptionLimits.graceSecondsDefault
      const { subscription, secret } = await store.rotateSecret(id, graceSeconds)
      return ok({
        endpoint: endpointView(subscription),
        secret,
        graceSeconds,
        previousSecretsExpireAt: new Date(deps.now() + graceSeconds * 1000).toISOString()
      })
    },

    async getEndpointSecret (context) {
      const { id } = owned(context)
      return ok({ secrets: store.revealSecrets(id) })
    },

    async pauseEndpoint (context) {
      const { id } = owned(context)
      return ok(endpointView(await store.setPaused(id, true)))
    },

    async resumeEndpoint (context) {
      const { id } = owned(context)
      return ok(endpointView(await store.setPaused(id, false)))
    },

    async enableEndpoint (context) {
      const { id } = owned(context)
      return ok(endpointView(await store.setEnabled(id, true)))
    },

    async disableEndpoint (context) {
      const { id } = owned(context)
      const { reason } = context.body as { reason?: string }
      return ok(endpointView(await store.setEnabled(id, false, reason ?? DEFAULT_DISABLE_REASON)))
    },

    async sendTestEvent (context) {
      const subscription = owned(context)
      // Its url is an unverified claim and it has no secret to sign with.
      if (subscription.quarantined !== undefined) throw new EndpointQuarantinedError(subscription.id, subscription.quarantined)
      // Counted against the endpoint's tenant, whoever asks.
      const waitMs = testEvents.take(subscription.tenantId)
      if (waitMs > 0) {
        throw new ApiError('WHD_ERR_RATE_LIMITED', `at most ${deps.quotas.testEventsPerMinute} test events a minute per tenant; retry after the retry-after header's seconds`, {
          headers: { 'retry-after': String(retryAfterSeconds(waitMs)) }
        })
      }
      const result = await deps.sendTestEvent(subscription)
      // The detail goes to the audit log only: status codes, timeouts and TLS
      // errors of arbitrary hosts would make the API a port scanner.
      context.annotate('error' in result ? { testError: result.error.slice(0, 100) } : { testStatus: result.status })
      if ('error' in result) return ok({ delivered: false, reason: 'unreachable' })
      return ok(result.status >= 200 && result.status < 300 ? { delivered: true } : { delivered: false, reason: 'rejected' })
    },

    async getEndpointStatus (context) {
      const subscription = owned(context)
      return ok(endpointStatusView(subscription, await deps.endpointStatus(subscription.id)))
    },

    async probeEndpoint (context) {
      const subscription = owned(context)
      deps.probeEndpoint(subscription.id)
      return ok(endpointStatusView(subscription, await deps.endpointStatus(subscription.id)))
    }
  }
}
