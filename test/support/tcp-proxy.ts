import { createConnection, createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A loopback TCP proxy a test can cut: while down, open connections are
 * destroyed and new ones are closed at once, which the client sees exactly
 * as an unreachable server.
 */
export interface TcpProxy {
  port: number
  setUp: (up: boolean) => void
  close: () => Promise<void>
}

export async function startTcpProxy (targetHost: string, targetPort: number, { up = true } = {}): Promise<TcpProxy> {
  let isUp = up
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    if (!isUp) {
      client.destroy()
      return
    }
    const upstream = createConnection({ host: targetHost, port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    setUp: (value) => {
      isUp = value
      if (!value) for (const s of sockets) s.destroy()
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
