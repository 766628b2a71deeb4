// Handlers of /v1/endpoints: CRUD, secrets, state changes, test event and
// status. Tenant isolation (DESIGN C6): a tenant token only ever reaches its
// own tenant's endpoints; any other id answers 404 exactly as an unknown one
// does, so ids of other tenants cannot be probed.
import type { EndpointUrlCheck } from '../../delivery/ssrf/endpoint-url.js'
import type { SubscriptionInput, SubscriptionPatch, SubscriptionStore } from '../../subscriptions/store.js'
import type { Subscription } from '../../subscriptions/types.js'
import { scopeCovers, type Scope } from '../../admin-tokens.js'
import type { Handler, Reply, RequestContext } from './context.js'
import { ApiError, notFound } from './errors.js'
import type { OperationId } from './routes.js'
import type { EndpointStatusSource, SendTestEvent } from './types.js'
import { parseCreateEndpoint, parseDisable, parseEmptyBody, parseListEndpoints, parsePatchEndpoint, parseRotateSecret } from './validate.js'
import { endpointStatusView, endpointView } from './views.js'

export interface EndpointHandlerDeps {
  store: SubscriptionStore
  sendTestEvent: SendTestEvent
  endpointStatus: EndpointStatusSource
  ssrfCheck?: (url: string) => EndpointUrlCheck
  now: () => number
}

/** The reason recorded when an endpoint is disabled through the API without one. */
export const DEFAULT_DISABLE_REASON = 'disabled through the admin API'

const ok = (body: unknown): Reply => ({ status: 200, body })

function forbiddenTenant (): ApiError {
  return new ApiError('WHD_ERR_FORBIDDEN', 'a tenant token acts on its own tenant only; tenantId must be omitted or equal to it', { field: 'tenantId' })
}

/** The tenant a request acts for: its token's, or the one an operator names. */
function actingTenant (scope: Scope, requested: string | undefined): string | undefined {
  if (scope.kind === 'operator') return requested
  if (requested !== undefined && requested !== scope.tenantId) throw forbiddenTenant()
  return scope.tenantId
}

export type EndpointOperationId = Exclude<OperationId, 'health' | 'openApiDocument' | 'listDeadLetters' | 'redriveDeadLetters'>

export function endpointHandlers (deps: EndpointHandlerDeps): Record<EndpointOperationId, Handler> {
  const { store } = deps

  /** The endpoint named in the path, if the caller's scope covers it. */
  const owned = (context: RequestContext): Subscription => {
    const id = context.params.id ?? ''
    const subscription = store.get(id)
    if (subscription === undefined || !scopeCovers(context.principal.scope, subscription.tenantId)) throw notFound()
    context.annotate({ endpointId: id, tenantId: subscription.tenantId })
    return subscription
  }

  const checkUrl = (url: string | undefined): void => {
    if (url === undefined || deps.ssrfCheck === undefined) return
    const verdict = deps.ssrfCheck(url)
    if (!verdict.ok) throw new ApiError(verdict.code, `url: ${verdict.reason}`, { field: 'url' })
  }

  return {
    async listEndpoints (context) {
      const request = parseListEndpoints(context.query)
      const tenantId = actingTenant(context.principal.scope, request.tenantId)
      const page = store.list({ ...request, ...(tenantId === undefined ? {} : { tenantId }) })
      // The store already filtered by tenant; this keeps a store bug from becoming a leak.
      const items = page.items.filter((s) => scopeCovers(context.principal.scope, s.tenantId)).map(endpointView)
      return ok(page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor })
    },

    async createEndpoint (context) {
      const request = parseCreateEndpoint(await context.body())
      const tenantId = actingTenant(context.principal.scope, request.tenantId)
      if (tenantId === undefined) throw new ApiError('WHD_ERR_VALIDATION', 'tenantId: is required with an operator token', { field: 'tenantId' })
      checkUrl(request.url)
      const input: SubscriptionInput = { ...request, tenantId }
      const { subscription, secret } = await store.create(input)
      context.annotate({ endpointId: subscription.id, tenantId })
      return {
        status: 201,
        headers: { location: `/v1/endpoints/${encodeURIComponent(subscription.id)}` },
        body: { endpoint: endpointView(subscription), secret }
      }
    },

    async getEndpoint (context) {
      return ok(endpointView(owned(context)))
    },

    async updateEndpoint (context) {
      const { id } = owned(context)
      const patch = parsePatchEndpoint(await context.body())
      checkUrl(patch.url)
      // null (clear the field) is the store's rule, not yet in SubscriptionPatch's type.
      return ok(endpointView(await store.update(id, patch as SubscriptionPatch)))
    },

    async deleteEndpoint (context) {
      const { id } = owned(context)
      await store.delete(id)
      return { status: 204 }
    },

    async rotateEndpointSecret (context) {
      const { id } = owned(context)
      const { graceSeconds } = parseRotateSecret(await context.body())
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
      parseEmptyBody(await context.body())
      return ok(endpointView(await store.setPaused(id, true)))
    },

    async resumeEndpoint (context) {
      const { id } = owned(context)
      parseEmptyBody(await context.body())
      return ok(endpointView(await store.setPaused(id, false)))
    },

    async enableEndpoint (context) {
      const { id } = owned(context)
      parseEmptyBody(await context.body())
      return ok(endpointView(await store.setEnabled(id, true)))
    },

    async disableEndpoint (context) {
      const { id } = owned(context)
      const { reason } = parseDisable(await context.body())
      return ok(endpointView(await store.setEnabled(id, false, reason ?? DEFAULT_DISABLE_REASON)))
    },

    async sendTestEvent (context) {
      const subscription = owned(context)
      parseEmptyBody(await context.body())
      const result = await deps.sendTestEvent(subscription)
      if ('error' in result) {
        return ok({ delivered: false, error: result.error.slice(0, 500), ...(result.durationMs === undefined ? {} : { durationMs: result.durationMs }) })
      }
      return ok({ delivered: result.status >= 200 && result.status < 300, status: result.status, durationMs: result.durationMs })
    },

    async getEndpointStatus (context) {
      const subscription = owned(context)
      return ok(endpointStatusView(subscription, await deps.endpointStatus(subscription.id)))
    }
  }
}
