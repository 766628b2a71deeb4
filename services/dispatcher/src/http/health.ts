import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Registry } from 'prom-client'

/**
 * What the probes see. Readiness is the admin API's (and /metrics'), not the
 * consumer group's: every member leaves the group for each rebalance at the
 * same moment, and a readiness tied to membership took every pod out of the
 * Service together (no admin API) and made the PodDisruptionBudget block
 * node drains. Membership is reported, and gates only start-up.
 */
export interface HealthState {
  /** Serving: the admin API listens and shutdown has not begun (/readyz). */
  ready: () => boolean
  /** Has joined the consumer group at least once (/startupz). */
  started: () => boolean
  /** In the consumer group now: false while a rebalance runs (reported by /readyz, not a condition). */
  member: () => boolean
}

export interface HealthServerOptions {
  /**
   * When set, `GET /metrics` requires `Authorization: Bearer <metricsToken>`
   * and answers 401 otherwise; the health endpoints stay open for probes.
   * @defaultValue undefined (metrics open)
   */
  metricsToken?: string
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** Whether the request carries the token, compared in constant time (over digests, so lengths do not leak either). */
function bearerMatches (req: IncomingMessage, expected: Buffer): boolean {
  const match = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)
}

/**
 * `/healthz` (the process answers: liveness), `/startupz` (joined the
 * consumer group once: start-up), `/readyz` (serving and not closing:
 * readiness, whatever the group does) and `/metrics` (Prometheus text
 * format) on their own port.
 */
export function createHealthServer (state: HealthState, registry: Registry, options: HealthServerOptions = {}): Server {
  const metricsToken = options.metricsToken === undefined ? undefined : digest(options.metricsToken)
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end()
      return
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      return
    }
    if (path === '/startupz') {
      const started = state.started()
      res.writeHead(started ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: started ? 'started' : 'starting' }))
      return
    }
    if (path === '/readyz') {
      const ready = state.ready()
      const group = state.member() ? 'member' : state.started() ? 'rebalancing' : 'joining'
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'not-ready', group }))
      return
    }
    if (path === '/metrics') {
      if (metricsToken !== undefined && !bearerMatches(req, metricsToken)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' }).end('{"error":"unauthorized"}')
        return
      }
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text)
      }, (err: unknown) => {
        res.writeHead(500).end(String(err))
      })
      return
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not-found"}')
  })
}
