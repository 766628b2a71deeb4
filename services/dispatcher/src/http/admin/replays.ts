// Handlers of the replay routes (DESIGN §11): start a replay of a time
// range for one endpoint, see its progress, cancel it, list an endpoint's.
// Tenant isolation (C6): the endpoint is found in the caller's scope before
// a handler runs; a replay id outside it answers 404 like an unknown one.
import { parseInstant } from '../../dead-letters/instant.js'
import { replayView, type ReplayJob, type ReplayOperations } from '../../engine/replay-job.js'
import { scopeCovers } from '../../admin-tokens.js'
import type { Handler, RequestContext } from './context.js'
import { ApiError, notFound, validationError } from './errors.js'
import { inactiveReason } from './endpoint-activity.js'
import { instantReason } from './requests.js'
import { REPLAY_ID_PATTERN } from './replay-schemas.js'

export type ReplayOperationId = 'startReplay' | 'getReplay' | 'cancelReplay' | 'listEndpointReplays'

export interface ReplayHandlerDeps {
  /** Undefined: replays are not served here (the routes answer 503). */
  replays: ReplayOperations | undefined
  /** Whether a history index can tell which events were delivered (onlyFailed). */
  historyIndexed: boolean
  now: () => number
}

function instantOf (value: unknown, field: string): number {
  try {
    return typeof value === 'number' ? value : parseInstant(String(value))
  } catch {
    throw validationError(field, instantReason(value))
  }
}

export function replayHandlers (deps: ReplayHandlerDeps): Record<ReplayOperationId, Handler> {
  const ops = (): ReplayOperations => {
    if (deps.replays === undefined) throw new ApiError('WHD_ERR_UNAVAILABLE', 'replays are not available here; retry later')
    return deps.replays
  }
  const owned = async (context: RequestContext): Promise<ReplayJob> => {
    const id = String((context.params ?? {}).replayId ?? '')
    if (!REPLAY_ID_PATTERN.test(id)) throw notFound('replay')
    const job = await ops().get(id)
    if (job === undefined || !scopeCovers(context.principal.scope, job.tenantId)) throw notFound('replay')
    context.annotate({ replayId: id, endpointId: job.endpointId })
    return job
  }
  const by = (context: RequestContext): string => (context.principal.scope.kind === 'tenant' ? `tenant:${context.principal.scope.tenantId}` : 'operator')

  return {
    async startReplay (context) {
      const endpoint = context.endpoint
      if (endpoint === undefined) throw notFound()
      const body = context.body as { since: unknown, until: unknown, eventTypes?: string[], onlyFailed?: boolean }
      const since = instantOf(body.since, 'since')
      const until = instantOf(body.until, 'until')
      const onlyFailed = body.onlyFailed === true
      if (onlyFailed && !deps.historyIndexed) throw validationError('onlyFailed', 'needs the delivery history index (HISTORY_STORE sqlite or postgres)')
      const inactive = inactiveReason(endpoint)
      if (inactive !== undefined) throw new ApiError('WHD_ERR_ENDPOINT_INACTIVE', `endpoint ${endpoint.id} is ${inactive}: ${inactive === 'paused' ? 'resume' : 'enable'} it first`)
      const result = await ops().create({
        tenantId: endpoint.tenantId,
        endpointId: endpoint.id,
        since,
        until,
        ...(body.eventTypes === undefined ? {} : { eventTypes: body.eventTypes }),
        onlyFailed,
        requestedBy: by(context)
      })
      if (result.kind === 'refused') {
        const { code, message, field } = result.refusal
        throw new ApiError(code, message, field === undefined ? {} : { field })
      }
      context.annotate({ replayId: result.job.id })
      return { status: 201, headers: { location: `/v1/replays/${result.job.id}` }, body: replayView(result.job, deps.now()) }
    },

    async getReplay (context) {
      return { status: 200, body: replayView(await owned(context), deps.now()) }
    },

    async cancelReplay (context) {
      const job = await owned(context)
      const cancelled = await ops().cancel(job.id) ?? job
      return { status: 200, body: replayView(cancelled, deps.now()) }
    },

    async listEndpointReplays (context) {
      const endpoint = context.endpoint
      if (endpoint === undefined) throw notFound()
      const jobs = await ops().list(endpoint.id)
      return { status: 200, body: { items: jobs.map((j) => replayView(j, deps.now())) } }
    }
  }
}
