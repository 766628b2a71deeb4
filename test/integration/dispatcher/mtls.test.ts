// Mutual TLS deliveries against a loopback HTTPS receiver that demands a
// client certificate from the test CA (test/support/tls-certs.ts). Counts are
// taken at the receiver: TLS connections it completed, and requests it
// handled, so "rejected before anything was delivered" is observed.
import { createServer as createHttpsServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createHttpDeliverer, type HttpDeliverer, type HttpDelivererOptions } from '../../../services/dispatcher/src/delivery/http-deliverer.js'
import { generateSecret } from '../../../services/dispatcher/src/delivery/sign.js'
import { createSsrfPolicy } from '../../../services/dispatcher/src/delivery/ssrf.js'
import type { AttemptResult, DeliveryRequest, DeliveryTlsMaterial } from '../../../services/dispatcher/src/delivery/types.js'
import { testPki, type CertificatePair, type TestPki } from '../../support/tls-certs.js'

interface Handled {
  /** CN of the client certificate the request came with. */
  clientCn: unknown
  /** The client's port: the same port means the same connection. */
  remotePort: number | undefined
  webhookId: string | undefined
}

interface Receiver {
  port: number
  url: string
  handled: Handled[]
  /** TCP connections accepted (before any TLS). */
  tcpConnections: () => number
  /** TLS handshakes the server completed and accepted. */
  tlsConnections: () => number
  /** Client ports whose connection has closed. */
  closedPorts: Set<number>
}

let pki: TestPki
beforeAll(async () => { pki = await testPki() })

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startReceiver (options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3', identity?: CertificatePair } = {}): Promise<Receiver> {
  const { identity = pki.server, ...tlsOptions } = options
  const server = createHttpsServer({
    key: identity.keyPem,
    cert: identity.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    ca: [pki.ca.certPem],
    ...tlsOptions
  })
  const handled: Handled[] = []
  const closedPorts = new Set<number>()
  let tcp = 0
  let tls = 0
  server.on('connection', () => { tcp++ })
  server.on('secureConnection', (socket: TLSSocket) => {
    tls++
    const port = socket.remotePort
    socket.on('close', () => { if (port !== undefined) closedPorts.add(port) })
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket
    handled.push({
      clientCn: socket.getPeerCertificate().subject?.CN,
      remotePort: socket.remotePort,
      webhookId: req.headers['webhook-id'] as string | undefined
    })
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  return { port, url: `https://127.0.0.1:${port}/hooks/in`, handled, tcpConnections: () => tcp, tlsConnections: () => tls, closedPorts }
}

function deliverer (options: HttpDelivererOptions = {}): HttpDeliverer {
  const instance = createHttpDeliverer({ version: 'mtls-test', attemptTimeoutMs: 5_000, connectTimeoutMs: 2_000, ...options })
  cleanups.push(instance.close)
  return instance
}

let sequence = 0
function request (url: string, tls: DeliveryTlsMaterial | undefined): DeliveryRequest {
  const req: DeliveryRequest = { url, webhookId: `evt_mtls_${++sequence}`, body: '{"type":"ping"}', secrets: [generateSecret()] }
  if (tls !== undefined) req.tls = tls
  return req
}

/** Client certificate and key of `pair`, plus the test CA for the server; fresh strings, so nothing is shared by identity. */
function material (pair: CertificatePair, extra: DeliveryTlsMaterial = { caPem: pki.ca.certPem }): DeliveryTlsMaterial {
  return { clientCertPem: `${pair.certPem}`, clientKeyPem: `${pair.keyPem}`, ...extra }
}

function expectResponse (result: AttemptResult): Extract<AttemptResult, { kind: 'response' }> {
  if (result.kind !== 'response') throw new Error(`expected a response, got ${result.code}: ${result.message}`)
  return result
}

function expectError (result: AttemptResult): Extract<AttemptResult, { kind: 'error' }> {
  if (result.kind !== 'error') throw new Error(`expected an error, got status ${result.status}`)
  return result
}

describe('mutual TLS deliveries', () => {
  it('presents the client certificate and trusts the endpoint CA: the receiver accepts it and sees who called', async () => {
    const receiver = await startReceiver()
    const req = request(receiver.url, material(pki.client))
    const result = expectResponse(await deliverer().deliver(req))

    expect(result.status).toBe(204)
    expect(receiver.handled).toEqual([{ clientCn: 'webhook-client-a', remotePort: expect.any(Number), webhookId: req.webhookId }])
  })

  it('also connects by host name (SAN DNS:localhost)', async () => {
    const receiver = await startReceiver()
    const policy = createSsrfPolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] })
    const result = await deliverer({ ssrf: policy }).deliver(request(`https://localhost:${receiver.port}/hooks/in`, material(pki.client)))
    expect(expectResponse(result).status).toBe(204)
    expect(receiver.handled.map((h) => h.clientCn)).toEqual(['webhook-client-a'])
  })

  describe('refusals', () => {
    it('without a client certificate the server refuses the connection: nothing is handled', async () => {
      const receiver = await startReceiver()
      const result = expectError(await deliverer().deliver(request(receiver.url, { caPem: pki.ca.certPem })))
      // TLS 1.3: the refusal is an alert after the client's handshake finished;
      // it is recognised as tls unless the close overtakes it.
      expect(['tls', 'reset']).toContain(result.code)
      expect(receiver.handled).toHaveLength(0)
      expect(receiver.tlsConnections()).toBe(0)
    })

    it('a client certificate from another CA is refused: nothing is handled', async () => {
      const receiver = await startReceiver()
      const result = expectError(await deliverer().deliver(request(receiver.url, material(pki.foreignClient))))
      expect(['tls', 'reset']).toContain(result.code)
      expect(receiver.handled).toHaveLength(0)
      expect(receiver.tlsConnections()).toBe(0)
    })

    it('under TLS 1.2 both refusals happen during the handshake and are tls', async () => {
      const receiver = await startReceiver({ maxVersion: 'TLSv1.2' })
      const { deliver } = deliverer()
      const noCertificate = expectError(await deliver(request(receiver.url, { caPem: pki.ca.certPem })))
      const foreign = expectError(await deliver(request(receiver.url, material(pki.foreignClient))))
      expect(noCertificate.code, noCertificate.message).toBe('tls')
      expect(foreign.code, foreign.message).toBe('tls')
      expect(receiver.handled).toHaveLength(0)

      // The same server accepts the right certificate, so the refusals were about the certificate.
      expect(expectResponse(await deliver(request(receiver.url, material(pki.client)))).status).toBe(204)
      expect(receiver.handled.map((h) => h.clientCn)).toEqual(['webhook-client-a'])
    })

    it('keeps verifying the server: without caPem the private-CA certificate is a tls error', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer({ connect: { rejectUnauthorized: false } })
      const result = expectError(await deliver(request(receiver.url, { clientCertPem: pki.client.certPem, clientKeyPem: pki.client.keyPem })))
      expect(result.code).toBe('tls')
      expect(receiver.handled).toHaveLength(0)
      expect(receiver.tlsConnections()).toBe(0)
    })

    it('trusts the endpoint CA only for requests that carry it', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer()
      expect(expectResponse(await deliver(request(receiver.url, material(pki.client)))).status).toBe(204)
      expect(expectError(await deliver(request(receiver.url, undefined))).code).toBe('tls')
      expect(receiver.handled).toHaveLength(1)
    })

    it('adds caPem to the trust store rather than replacing it', async () => {
      // The deliverer's own trust (here one operator CA instead of Node's
      // roots) keeps applying: a server certified by it is still accepted.
      const privateCaServer = await startReceiver()
      const operatorCaServer = await startReceiver({ identity: pki.foreignServer })
      const { deliver } = deliverer({ connect: { ca: pki.foreignCa.certPem } })
      expect(expectResponse(await deliver(request(privateCaServer.url, material(pki.client)))).status).toBe(204)
      expect(expectResponse(await deliver(request(operatorCaServer.url, material(pki.client)))).status).toBe(204)
      // Without caPem, only the operator CA is trusted.
      const untrusted = expectError(await deliver(request(privateCaServer.url, material(pki.client, {}))))
      expect(untrusted.code).toBe('tls')
      expect(privateCaServer.handled).toHaveLength(1)
    })

    it('refuses unusable material before connecting, never echoing it', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer()
      for (const tls of [
        { clientCertPem: pki.client.certPem, caPem: pki.ca.certPem },
        { clientKeyPem: pki.client.keyPem },
        material(pki.client, { clientKeyPem: pki.secondClient.keyPem, caPem: pki.ca.certPem }),
        material(pki.client, { caPem: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' }),
        material(pki.client, { clientKeyPem: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' })
      ]) {
        const result = expectError(await deliver(request(receiver.url, tls)))
        expect(result.code, result.message).toBe('tls')
        expect(result.message).not.toContain('-----')
      }
      expect(receiver.tcpConnections()).toBe(0)
    })
  })

  describe('connection pools', () => {
    it('reuses one connection for the same material and opens another for different material', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer()

      for (let i = 0; i < 2; i++) expectResponse(await deliver(request(receiver.url, material(pki.client))))
      expect(receiver.tlsConnections()).toBe(1)
      expectResponse(await deliver(request(receiver.url, material(pki.secondClient))))
      expectResponse(await deliver(request(receiver.url, material(pki.client))))

      expect(receiver.tlsConnections()).toBe(2)
      const [a1, a2, b, a3] = receiver.handled
      expect(receiver.handled.map((h) => h.clientCn)).toEqual(['webhook-client-a', 'webhook-client-a', 'webhook-client-b', 'webhook-client-a'])
      expect(a2?.remotePort).toBe(a1?.remotePort)
      expect(a3?.remotePort).toBe(a1?.remotePort)
      expect(b?.remotePort).not.toBe(a1?.remotePort)
    })

    it('keys endpoint pools by (endpoint, material): same material in two endpoints, two materials in one endpoint, never one socket', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer()
      const send = async (pool: string, pair: CertificatePair): Promise<void> => {
        expectResponse(await deliver({ ...request(receiver.url, material(pair)), pool: { id: pool, connections: 2 } }))
      }
      await send('ep-1', pki.client)
      await send('ep-1', pki.client)
      await send('ep-2', pki.client)
      await send('ep-1', pki.secondClient)
      const [a1, a2, other, b] = receiver.handled
      expect(receiver.handled.map((h) => h.clientCn)).toEqual(['webhook-client-a', 'webhook-client-a', 'webhook-client-a', 'webhook-client-b'])
      expect(a2?.remotePort).toBe(a1?.remotePort)
      expect(new Set([a1?.remotePort, other?.remotePort, b?.remotePort]).size).toBe(3)
      expect(receiver.tlsConnections()).toBe(3)
    })

    it('never lends a mutual-TLS connection to a request without that material', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer({ connect: { ca: pki.ca.certPem } })
      expectResponse(await deliver(request(receiver.url, material(pki.client))))
      // The shared pool trusts the CA but has no client certificate: refused.
      const plain = expectError(await deliver(request(receiver.url, undefined)))
      expect(['tls', 'reset']).toContain(plain.code)
      expect(receiver.handled).toHaveLength(1)
    })

    it('keeps at most maxPools pools, closing the least recently used', async () => {
      const receiver = await startReceiver()
      const { deliver } = deliverer({ maxPools: 1 })
      expectResponse(await deliver(request(receiver.url, material(pki.client))))
      const firstPort = receiver.handled[0]?.remotePort
      expectResponse(await deliver(request(receiver.url, material(pki.secondClient))))
      // The first pool was evicted and closed: its connection goes away.
      await vi.waitFor(() => { expect(receiver.closedPorts.has(firstPort ?? -1)).toBe(true) })
      expectResponse(await deliver(request(receiver.url, material(pki.client))))
      expect(receiver.tlsConnections()).toBe(3)
      expect(receiver.handled[2]?.remotePort).not.toBe(firstPort)
    })

    it('close() closes the mutual-TLS connections too; deliveries afterwards fail as other', async () => {
      const receiver = await startReceiver()
      const instance = deliverer()
      expectResponse(await instance.deliver(request(receiver.url, material(pki.client))))
      const port = receiver.handled[0]?.remotePort ?? -1
      const first = instance.close()
      expect(instance.close()).toBe(first)
      await first
      await vi.waitFor(() => { expect(receiver.closedPorts.has(port)).toBe(true) })
      expect(expectError(await instance.deliver(request(receiver.url, material(pki.client)))).code).toBe('other')
      expect(receiver.tcpConnections()).toBe(1)
    })
  })

  describe('SSRF guard', () => {
    it('applies to mutual-TLS requests: loopback is refused unless allow-listed', async () => {
      const receiver = await startReceiver()
      const strict = deliverer({ ssrf: createSsrfPolicy() })
      const blocked = expectError(await strict.deliver(request(receiver.url, material(pki.client))))
      expect(blocked.code).toBe('ssrf-blocked')
      expect(receiver.tcpConnections()).toBe(0)
      expect(receiver.handled).toHaveLength(0)

      const opened = deliverer({ ssrf: createSsrfPolicy({ allowCidrs: ['127.0.0.0/8'] }) })
      expect(expectResponse(await opened.deliver(request(receiver.url, material(pki.client)))).status).toBe(204)
      expect(receiver.handled.map((h) => h.clientCn)).toEqual(['webhook-client-a'])
    })

    it('judges host names of mutual-TLS requests at connect time too', async () => {
      const receiver = await startReceiver()
      const strict = deliverer({ ssrf: createSsrfPolicy() })
      const blocked = expectError(await strict.deliver(request(`https://localhost:${receiver.port}/`, material(pki.client))))
      expect(blocked.code).toBe('ssrf-blocked')
      expect(receiver.tcpConnections()).toBe(0)
    })
  })
})
