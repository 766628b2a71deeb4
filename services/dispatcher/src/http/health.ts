import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

export interface HealthState {
  /** Joined the group and not shutting down. */
  ready: () => boolean
}

/**
 * `/healthz` (the process answers), `/readyz` (joined the consumer group and
 * not closing) and `/metrics` (Prometheus text format) on their own port.
 */
export function createHealthServer (state: HealthState, registry: Registry): Server {
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
    if (path === '/readyz') {
      const ready = state.ready()
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'not-ready' }))
      return
    }
    if (path === '/metrics') {
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
