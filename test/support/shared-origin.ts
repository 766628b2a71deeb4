import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * One origin (127.0.0.1:port) serving many endpoint paths, as a bank's
 * receiver host serves several subscriptions. A path can be held: its
 * requests get no answer until released.
 */
export interface SharedOrigin {
  /** The URL of endpoint `name` on this origin: `http://127.0.0.1:<port>/<name>`. */
  url: (name: string) => string
  /** Requests of each path that have arrived and are not answered yet. */
  held: Map<string, ServerResponse[]>
  /** Answered requests per path. */
  answered: Map<string, number>
  /** Distinct `webhook-id`s answered per path. */
  answeredIds: (path: string) => number
  /** Held requests per path whose connection the client closed before an answer (an attempt deadline). */
  abandoned: Map<string, number>
  /** TCP connections accepted, and those still open. */
  connections: () => { accepted: number, open: number }
  /** Holds the requests of `path` (true), or answers them (204) from now on and releases those held (false). */
  hold: (path: string, hold: boolean) => void
  close: () => Promise<void>
}

export async function startSharedOrigin (): Promise<SharedOrigin> {
  const held = new Map<string, ServerResponse[]>()
  const answered = new Map<string, number>()
  const ids = new Map<string, Set<string>>()
  const abandoned = new Map<string, number>()
  const holding = new Set<string>()
  let accepted = 0
  let open = 0
  const answer = (path: string, res: ServerResponse, webhookId: string): void => {
    answered.set(path, (answered.get(path) ?? 0) + 1)
    ids.set(path, (ids.get(path) ?? new Set()).add(webhookId))
    res.writeHead(204).end()
  }
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const path = req.url ?? ''
      const webhookId = String(req.headers['webhook-id'])
      if (!holding.has(path)) {
        answer(path, res, webhookId)
        return
      }
      const waiting = Object.assign(res, { webhookId })
      held.set(path, [...(held.get(path) ?? []), waiting])
      res.on('close', () => {
        if (!res.writableEnded) abandoned.set(path, (abandoned.get(path) ?? 0) + 1)
      })
    })
  })
  server.on('connection', (socket) => {
    accepted++
    open++
    socket.on('close', () => { open-- })
  })
  // Longer than any client keeps an idle socket: the client closes first.
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 130_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    held,
    answered,
    answeredIds: (path) => ids.get(path)?.size ?? 0,
    abandoned,
    connections: () => ({ accepted, open }),
    hold: (path, hold) => {
      if (hold) {
        holding.add(path)
        return
      }
      holding.delete(path)
      for (const res of held.get(path)?.splice(0) ?? []) answer(path, res, (res as ServerResponse & { webhookId: string }).webhookId)
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
