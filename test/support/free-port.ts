import { createServer } from 'node:net'

/**
 * A port on 127.0.0.1 the OS has just handed out and nobody holds: test
 * processes run side by side, so ports from a fixed range collide (a request
 * then reaches another test's dispatcher).
 */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}
