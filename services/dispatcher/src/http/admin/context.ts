import type { Principal } from '../../admin-tokens.js'

/** What a handler gets to know about one authenticated request. */
export interface RequestContext {
  principal: Principal
  /** Percent-decoded path parameters. */
  params: { id?: string }
  query: URLSearchParams
  /** Reads and parses the JSON body (undefined when there is none). */
  body: () => Promise<unknown>
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
