// Handlers of /v1/dead-letters. A tenant token sees and redrives only the
// letters of its own tenant's subscriptions (DESIGN C6): its filter is
// narrowed to those subscription ids before the dead-letter topic is read.
import type { RedriveFilter } from '../../dead-letters/filter.js'
import { filtersOverlap, type DeadLetterState } from '../../dead-letters/lifecycle.js'
import type { PageRequest } from '../../dead-letters/page.js'
import type { SubscriptionSource } from '../../subscriptions/types.js'
import type { Scope } from '../../admin-tokens.js'
import type { Handler } from './context.js'
import { ApiError, validationError } from './errors.js'
import { deadLetterFilter, decodeDeadLetterCursor, encodeDeadLetterCursor } from './requests.js'
import type { DeadLetterOperations } from './types.js'
import { deadLetterView } from './views.js'

export interface DeadLetterHandlerDeps {
  store: Pick<SubscriptionSource, 'forTenant'>
  deadLetters: DeadLetterOperations
}

/**
 * The filter narrowed to what the scope may touch, or undefined when that is
 * nothing. An empty `subscriptionIds` list would match every letter
 * (`matchesFilter`), so a tenant without subscriptions, or one asking only
 * for ids it does not own, never reaches the dead-letter operations.
 */
export function scopeFilter (scope: Scope, filter: RedriveFilter, store: Pick<SubscriptionSource, 'forTenant'>): RedriveFilter | undefined {
  if (scope.kind === 'operator') return filter
  return narrowToTenant(scope.tenantId, filter, store)
}

function narrowToTenant (tenantId: string, filter: RedriveFilter, store: Pick<SubscriptionSource, 'forTenant'>): RedriveFilter | undefined {
  const owned = new Set(store.forTenant(tenantId).filter((s) => s.tenantId === tenantId).map((s) => s.id))
  const requested = filter.subscriptionIds
  const allowed = requested === undefined ? [...owned] : requested.filter((id) => owned.has(id))
  if (allowed.length === 0) return undefined
  return { ...filter, subscriptionIds: allowed }
}

/**
 * The redrive's scope, which must be explicit (an empty body once redrove
 * every tenant's letters): subscriptionId, tenantId, or `all: true`.
 */
function redriveScope (scope: Scope, body: Record<string, unknown>, filter: RedriveFilter, store: Pick<SubscriptionSource, 'forTenant'>): RedriveFilter | undefined {
  const tenantId = body.tenantId as string | undefined
  if (tenantId === undefined && filter.subscriptionIds === undefined && body.all !== true) {
    throw validationError('all', 'a redrive needs a scope: subscriptionId, tenantId, or all: true for every letter the token may see')
  }
  if (tenantId !== undefined && scope.kind === 'tenant' && tenantId !== scope.tenantId) {
    throw new ApiError('WHD_ERR_FORBIDDEN', 'a tenant token may only name its own tenant', { field: 'tenantId' })
  }
  const scoped = scopeFilter(scope, filter, store)
  if (scoped === undefined || tenantId === undefined) return scoped
  return narrowToTenant(tenantId, scoped, store)
}

export function deadLetterHandlers (deps: DeadLetterHandlerDeps): Record<'listDeadLetters' | 'redriveDeadLetters', Handler> {
  // Redrives running through this instance, answered 409 at once when a new
  // one overlaps; the lock on the state topic (redrive/run.ts) does the same
  // across instances and the CLI.
  const running = new Set<RedriveFilter>()

  return {
    async listDeadLetters (context) {
      const query = context.query as Record<string, unknown> & { limit: number, cursor?: string, state?: DeadLetterState[] }
      const filter = deadLetterFilter(query)
      const page: PageRequest = { limit: query.limit }
      if (query.cursor !== undefined) page.after = decodeDeadLetterCursor(query.cursor)
      if (query.state !== undefined) page.states = query.state
      const scoped = scopeFilter(context.principal.scope, filter, deps.store)
      if (scoped === undefined) return { status: 200, body: { items: [], total: 0, countByReason: {}, countByState: {} } }
      const result = await deps.deadLetters.list(scoped, page)
      const allowed = context.principal.scope.kind === 'operator' ? undefined : new Set(scoped.subscriptionIds)
      const items = result.items
        .filter((letter) => allowed === undefined || (letter.subscriptionId !== undefined && allowed.has(letter.subscriptionId)))
        .slice(0, page.limit)
        .map(deadLetterView)
      const body: Record<string, unknown> = { items, total: result.total, countByReason: result.countByReason, countByState: result.countByState }
      if (result.next !== undefined) body.nextCursor = encodeDeadLetterCursor(result.next)
      return { status: 200, body }
    },

    async redriveDeadLetters (context) {
      const body = context.body as Record<string, unknown>
      const filter = deadLetterFilter(body)
      const dryRun = body.dryRun === true
      const scoped = redriveScope(context.principal.scope, body, filter, deps.store)
      context.annotate({ dryRun })
      // How many letters the scan read counts every tenant's: operators only.
      const operator = context.principal.scope.kind === 'operator'
      const answer = (counts: { matched: number, redriven: number, skipped: number, complete?: boolean, skippedByReason?: Partial<Record<string, number>>, scanned?: number, redriveId?: string }): { status: number, body: Record<string, unknown> } => ({
        status: 200,
        body: {
          dryRun,
          ...(dryRun || counts.redriveId === undefined ? {} : { redriveId: counts.redriveId }),
          ...(operator && counts.scanned !== undefined ? { scanned: counts.scanned } : {}),
          matched: counts.matched,
          // A dry run must not read as done: it says what it would do.
          ...(dryRun ? { wouldRedrive: counts.redriven } : { redriven: counts.redriven }),
          skipped: counts.skipped,
          complete: counts.complete ?? true,
          skippedByReason: { ...counts.skippedByReason }
        }
      })
      if (scoped === undefined) return answer({ matched: 0, redriven: 0, skipped: 0 })
      if (!dryRun) {
        for (const other of running) {
          if (filtersOverlap(other, scoped)) throw new ApiError('WHD_ERR_REDRIVE_CONFLICT', 'a redrive over an overlapping set of dead letters is running; retry when it has finished')
        }
        running.add(scoped)
      }
      try {
        const counts = await deps.deadLetters.redrive(scoped, { dryRun, again: body.again === true, by: `admin-api:${context.principal.tokenId}` })
        context.annotate({ matched: counts.matched, redriven: counts.redriven, ...(counts.redriveId === undefined ? {} : { redriveId: counts.redriveId }) })
        return answer(counts)
      } finally {
        running.delete(scoped)
      }
    }
  }
}
