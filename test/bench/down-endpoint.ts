// The endpoint that is down, on 127.0.0.1, in one of three ways seen in
// production: nothing listening (connections refused), a server answering
// 503 at once, or one that accepts requests and never answers (each attempt
// then runs into the dispatcher's DELIVERY_TIMEOUT_MS).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { freePort } from '../support/free-port.js'

export type DownMode = 'refused' | '503' | 'timeout'

export const downModeDescriptions: Record<DownMode, string> = {
  refused: 'refusing connections',
  503: 'answering 503',
  timeout: 'never answering (attempts time out)'
}

export interface DownEndpoint {
  url: string
  close: () => Promise<void>
}

export async function startDownEndpoint (mode: DownMode): Promise<DownEndpoint> {
  if (mode === 'refused') return { url: `http://127.0.0.1:${await freePort()}/hook`, close: async () => {} }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    if (mode === '503') res.writeHead(503).end()
    // 'timeout': the request stays open until the dispatcher gives up on it.
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}
