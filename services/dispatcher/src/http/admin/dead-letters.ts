// Handlers of /v1/dead-letters. A tenant token sees and redrives only the
// letters of its own tenant's subscriptions (DESIGN C6): its filter is
// narrowed to those subscription ids before the dead-letter topic is read.
import type { RedriveFilter } from '../../dead-letters/filter.js'
import type { SubscriptionSource } from '../../subscriptions/types.js'
import type { Scope } from '../../admin-tokens.js'
import type { Handler } from './context.js'
import { ApiError } from './errors.js'
import { deadLetterFilter } from './requests.js'
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
  const owned = new Set(store.forTenant(scope.tenantId).filter((s) => s.tenantId === scope.tenantId).map((s) => s.id))
  const requested = filter.subscriptionIds
  const allowed = requested === undefined ? [...owned] : requested.filter((id) => owned.has(id))
  if (allowed.length === 0) return undefined
  return { ...filter, subscriptionIds: allowed }
}

export function deadLetterHandlers (deps: DeadLetterHandlerDeps): Record<'listDeadLetters' | 'redriveDeadLetters', Handler> {
  // A redrive scans the whole dead-letter topic and writes to the retry
  // topics; two at once would redrive the same letters twice.
  let redriveRunning = false

  return {
    async listDeadLetters (context) {
      const filter = deadLetterFilter(context.query)
      const limit = context.query.limit as number
      const scoped = scopeFilter(context.principal.scope, filter, deps.store)
      if (scoped === undefined) return { status: 200, body: { items: [] } }
      const letters = await deps.deadLetters.list(scoped, limit)
      const allowed = context.principal.scope.kind === 'operator' ? undefined : new Set(scoped.subscriptionIds)
      const items = letters
        .filter((letter) => allowed === undefined || (letter.subscriptionId !== undefined && allowed.has(letter.subscriptionId)))
        .slice(0, limit)
        .map(deadLetterView)
      return { status: 200, body: { items } }
    },

    async redriveDeadLetters (context) {
      const body = context.body as Record<string, unknown>
      const filter = deadLetterFilter(body)
      const dryRun = body.dryRun === true
      const scoped = scopeFilter(context.principal.scope, filter, deps.store)
      context.annotate({ dryRun })
      // How many letters the scan read counts every tenant's: operators only.
      const operator = context.principal.scope.kind === 'operator'
      if (scoped === undefined) {
        return { status: 200, body: { dryRun, matched: 0, redriven: 0, skipped: 0, complete: true, skippedByReason: {} } }
      }
      if (!dryRun && redriveRunning) throw new ApiError('WHD_ERR_CONFLICT', 'a redrive is already running; retry when it has finished')
      if (!dryRun) redriveRunning = true
      try {
        const counts = await deps.deadLetters.redrive(scoped, dryRun)
        context.annotate({ matched: counts.matched, redriven: counts.redriven })
        return {
          status: 200,
          body: {
            dryRun,
            ...(operator ? { scanned: counts.scanned } : {}),
            matched: counts.matched,
            redriven: counts.redriven,
            skipped: counts.skipped,
            complete: counts.complete ?? true,
            skippedByReason: { ...counts.skippedByReason }
          }
        }
      } finally {
        if (!dryRun) redriveRunning = false
      }
    }
  }
}
