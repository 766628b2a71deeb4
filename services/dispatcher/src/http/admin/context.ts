import type { Principal } from '../../admin-tokens.js'
import type { Subscription } from '../../subscriptions/types.js'

/** What a handler gets to know about one authenticated, validated request. */
export interface RequestContext {
  principal: Principal
  /** The endpoint named in the path, already found in the caller's scope (before the body was read). */
  endpoint: Subscription | undefined
  /** The path parameters, validated against the route's schema. */
  params?: Record<string, unknown>
  /** The query string, validated against the route's schema (defaults applied). */
  query: Record<string, unknown>
  /** The body, validated against the route's schema; `{}` for an optional body left out. */
  body: unknown
  /**
   * The revision `If-Match` requires, on conditional routes: undefined
   * without the header (the write is unconditional) or with `*`; NaN when
   * it names no revision (it then matches none).
   */
  ifRevision: number | undefined
  /** `http(s)://host[:port]` the request came to (its Host header). */
  origin: string
  /** Adds fields to the request's log line (ids, never secrets). */
  annotate: (fields: Record<string, unknown>) => void
}

/** What a handler answers; the server serialises it. */
export interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export type Handler = (context: RequestContext) => Promise<Reply>
