// Webhooks through an HTTP CONNECT proxy (WEBHOOK_PROXY_URL) with the SSRF
// policy applied to the final destination: a loopback proxy records what it
// is asked to tunnel to, and a loopback HTTPS receiver (test CA) what
// arrives. The proxy must only ever see an address the policy approved, never
// the endpoint's name, and nothing at all for a refused endpoint.
import { createServer as createHttpsServer } from 'node:https'
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHttpDeliverer, type HttpDeliverer } from '../../../services/dispatcher/src/delivery/http-deliverer.js'
import { generateSecret } from '../../../services/dispatcher/src/delivery/sign.js'
import { createSsrfPolicy } from '../../../services/dispatcher/src/delivery/ssrf.js'
import type { AttemptResult } from '../../../services/dispatcher/src/delivery/types.js'
import { testPki, type TestPki } from '../../support/tls-certs.js'

let pki: TestPki
beforeAll(async () => { pki = await testPki() })
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })

const listen = async (server: Server | ReturnType<typeof createHttpsServer>): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => { server.close(() => resolve()); (server as { closeAllConnections?: () => void }).closeAllConnections?.() }))
  return (server.address() as AddressInfo).port
}

/** An HTTPS receiver for localhost / 127.0.0.1 that records the SNI of each request. */
async function receiver (): Promise<{ port: number, servernames: Array<string | false | null> }> {
  const servernames: Array<string | false | null> = []
  const server = createHttpsServer({ key: pki.server.keyPem, cert: pki.server.certPem }, (req, res) => {
    servernames.push((req.socket as TLSSocket).servername)
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  })
  return { port: await listen(server), servernames }
}

/** A CONNECT proxy: records each request head, answers `status`, and tunnels on 200. */
async function proxy (status = 200): Promise<{ url: string, requests: string[] }> {
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const server = createNetServer((client) => {
    sockets.add(client)
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      client.off('data', onData)
      requests.push(head.slice(0, end))
      const [, authority] = /^CONNECT (\S+) HTTP\/1\.1/.exec(head) ?? []
      const match = /^\[?([^\]]+)\]?:(\d+)$/.exec(authority ?? '')
      if (status !== 200 || match === null) {
        client.end(`HTTP/1.1 ${status} Refused\r\n\r\n`)
        return
      }
      const upstream = netConnect({ host: match[1], port: Number(match[2]) }, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n')
        upstream.pipe(client)
        client.pipe(upstream)
      })
      sockets.add(upstream)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    }
    client.on('data', onData)
  })
  const port = await listen(server)
  cleanups.push(async () => { for (const s of sockets) s.destroy() })
  return { url: `http://127.0.0.1:${port}`, requests }
}

function deliverer (proxyUrl: string, allowLoopback: boolean): HttpDeliverer {
  const d = createHttpDeliverer({
    ssrf: createSsrfPolicy({ allowCidrs: allowLoopback ? ['127.0.0.0/8', '::1/128'] : [] }),
    proxy: new URL(proxyUrl),
    connect: { ca: pki.ca.certPem },
    connectTimeoutMs: 5000
  })
  cleanups.push(() => d.close())
  return d
}

const send = (d: HttpDeliverer, url: string): Promise<AttemptResult> =>
  d.deliver({ url, webhookId: `evt_proxy_${Math.random()}`, body: '{"type":"ping"}', secrets: [generateSecret()] })

describe('webhooks through a CONNECT proxy', () => {
  it('tunnels to the address the SSRF policy approved, not the name, and runs TLS to the endpoint with its name', async () => {
    const r = await receiver()
    const p = await proxy()
    const result = await send(deliverer(p.url, true), `https://localhost:${r.port}/hooks`)
    expect(result).toMatchObject({ kind: 'response', status: 204 })
    expect(p.requests).toHaveLength(1)
    // localhost resolved here (to 127.0.0.1 or ::1), judged, and only the address handed to the proxy.
    expect(p.requests[0]).toMatch(new RegExp(`^CONNECT (127\\.0\\.0\\.1|\\[::1\\]):${r.port} HTTP/1\\.1\\r\\n`))
    expect(p.requests[0]).not.toContain('localhost')
    expect(r.servernames).toEqual(['localhost'])
  })

  it('refuses a destination the policy refuses before asking the proxy anything', async () => {
    const r = await receiver()
    const p = await proxy()
    const d = deliverer(p.url, false)
    expect(await send(d, `https://localhost:${r.port}/hooks`)).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    expect(await send(d, `https://127.0.0.1:${r.port}/hooks`)).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    expect(await send(d, `https://[::ffff:169.254.169.254]:${r.port}/latest`)).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    expect(p.requests).toEqual([])
    expect(r.servernames).toEqual([])
  })

  it('sends the proxy URL\'s credentials as Proxy-Authorization, and fails the attempt when the proxy refuses', async () => {
    const r = await receiver()
    const p = await proxy()
    const withAuth = new URL(p.url)
    withAuth.username = 'dispatcher'
    withAuth.password = 's3cret'
    expect(await send(deliverer(withAuth.href, true), `https://127.0.0.1:${r.port}/hooks`)).toMatchObject({ kind: 'response', status: 204 })
    expect(p.requests[0]).toContain(`Proxy-Authorization: Basic ${Buffer.from('dispatcher:s3cret').toString('base64')}`)
    const refusing = await proxy(403)
    expect(await send(deliverer(refusing.url, true), `https://127.0.0.1:${r.port}/hooks`)).toMatchObject({ kind: 'error', code: 'connection-refused' })
  })

  it('verifies the endpoint\'s certificate through the tunnel', async () => {
    const r = await receiver()
    const p = await proxy()
    const d = createHttpDeliverer({ ssrf: createSsrfPolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] }), proxy: new URL(p.url), connectTimeoutMs: 5000 })
    cleanups.push(() => d.close())
    // Without the test CA the receiver's certificate does not verify.
    expect(await send(d, `https://localhost:${r.port}/hooks`)).toMatchObject({ kind: 'error', code: 'tls' })
  })
})
