// The SSRF guard on real sockets, all of them on loopback. Names resolve only
// through a resolver the test controls, and every TCP connection attempt the
// process makes is recorded (Node's `net.client.socket` diagnostics channel
// plus each socket's `connectionAttempt` event), so "refused before
// connecting" is observed, not assumed.
import { execFile } from 'node:child_process'
import diagnosticsChannel from 'node:diagnostics_channel'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { connect as netConnect, isIP, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Agent, interceptors } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { classifyTransportError, createHttpDeliverer } from '../../../services/dispatcher/src/delivery/http-deliverer.js'
import { generateSecret } from '../../../services/dispatcher/src/delivery/sign.js'
import {
  checkEndpointUrl,
  createSsrfConnector,
  createSsrfLookup,
  createSsrfPolicy,
  type SsrfPolicy,
  type SsrfResolver
} from '../../../services/dispatcher/src/delivery/ssrf.js'
import type { AttemptResult } from '../../../services/dispatcher/src/delivery/types.js'

interface Receiver {
  port: number
  /** TCP connections accepted. */
  connections: () => number
  /** Request paths received. */
  requests: string[]
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

// Addresses this process tried to connect to while a test ran. For a host
// name, net.connect creates the Socket object before the lookup, so a refused
// name still creates one; what must not happen is a connection attempt.
// (tls.connect does not publish on this channel: the TLS test counts at the
// receiver instead.)
let attempts: string[] = []
let socketsCreated = 0
const watchSocket = (message: unknown): void => {
  socketsCreated++
  const { socket } = message as { socket: Socket }
  socket.on('connectionAttempt', (ip: string, port: number) => { attempts.push(`${ip}:${port}`) })
}
beforeEach(() => {
  attempts = []
  socketsCreated = 0
  diagnosticsChannel.subscribe('net.client.socket', watchSocket)
  cleanups.push(async () => { diagnosticsChannel.unsubscribe('net.client.socket', watchSocket) })
})

async function startReceiver (handler: (req: IncomingMessage, res: ServerResponse) => void, server: Server = createHttpServer()): Promise<Receiver> {
  let connections = 0
  const requests: string[] = []
  // 'connection' is the raw TCP accept, for https servers too.
  server.on('connection', () => { connections++ })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '')
    req.resume()
    req.on('end', () => handler(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { port: (server.address() as AddressInfo).port, connections: () => connections, requests }
}

const ok = (_req: IncomingMessage, res: ServerResponse): void => { res.writeHead(204).end() }

/** A resolver that answers from a list, one answer per call (the last repeats), recording calls. */
function scriptedResolver (...answers: Array<readonly string[]>): SsrfResolver & { calls: string[] } {
  const calls: string[] = []
  const resolve = async (hostname: string): Promise<Array<{ address: string, family: number }>> => {
    const answer = answers[Math.min(calls.length, answers.length - 1)] ?? []
    calls.push(hostname)
    return answer.map((address) => ({ address, family: isIP(address) }))
  }
  return Object.assign(resolve, { calls })
}

function guardedDeliverer (policy: SsrfPolicy, resolve: SsrfResolver, connectOptions: Record<string, unknown> = {}): ReturnType<typeof createHttpDeliverer> {
  const deliverer = createHttpDeliverer({
    attemptTimeoutMs: 5_000,
    connect: createSsrfConnector(policy, { timeout: 2_000, ...connectOptions }, { resolve })
  })
  cleanups.push(deliverer.close)
  return deliverer
}

const send = (deliverer: ReturnType<typeof createHttpDeliverer>, url: string): Promise<AttemptResult> =>
  deliverer.deliver({ url, webhookId: 'msg_ssrf', body: '{"type":"ping"}', secrets: [generateSecret()] })

const strict = createSsrfPolicy({ allowHttp: true })
const loopbackAllowed = createSsrfPolicy({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] })

describe('SSRF guard on the HTTP deliverer', () => {
  it('refuses a name that resolves to loopback: ssrf-blocked, no socket, nothing received', async () => {
    const receiver = await startReceiver(ok)
    const resolve = scriptedResolver(['127.0.0.1'])
    const result = await send(guardedDeliverer(strict, resolve), `http://rebind.test:${receiver.port}/hook`)
    expect(result).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    if (result.kind === 'error') expect(result.message).toContain('rebind.test: 127.0.0.1 is in 127.0.0.0/8 (loopback)')
    expect(resolve.calls).toEqual(['rebind.test'])
    expect(attempts).toEqual([])
    expect(receiver.connections()).toBe(0)
  })

  it('delivers the same request once the allow-list opens loopback (so the guard, not the network, refused it)', async () => {
    const receiver = await startReceiver(ok)
    const resolve = scriptedResolver(['127.0.0.1'])
    const result = await send(guardedDeliverer(loopbackAllowed, resolve), `http://rebind.test:${receiver.port}/hook`)
    expect(result).toMatchObject({ kind: 'response', status: 204 })
    expect(receiver.requests).toEqual(['/hook'])
    expect(attempts).toEqual([`127.0.0.1:${receiver.port}`])
  })

  it('survives DNS rebinding: a name that passed validation and an earlier lookup is judged again when dialled', async () => {
    const receiver = await startReceiver(ok)
    const url = `http://rebind.test:${receiver.port}/hook`
    // First answer public (only ever resolved, never dialled), then loopback.
    const resolve = scriptedResolver(['93.184.215.14'], ['127.0.0.1'])
    expect(checkEndpointUrl(url, strict)).toMatchObject({ ok: true })
    const earlier = await new Promise<Error | null>((done) => createSsrfLookup(strict, { resolve })('rebind.test', { all: true }, (err) => done(err)))
    expect(earlier).toBeNull()

    const result = await send(guardedDeliverer(strict, resolve), url)
    expect(result).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    expect(resolve.calls).toEqual(['rebind.test', 'rebind.test'])
    expect(attempts).toEqual([])
    expect(receiver.connections()).toBe(0)
  })

  it('refuses a name with one allowed and one blocked address, though the allowed one is listening', async () => {
    const receiver = await startReceiver(ok)
    // 127.0.0.1 (allowed) comes first: were the guard to judge only the first
    // address, the loopback receiver would get the request. The blocked one is
    // ::1, so even a broken guard could only ever dial loopback.
    const resolve = scriptedResolver(['127.0.0.1', '::1'])
    const result = await send(guardedDeliverer(loopbackAllowed, resolve), `http://mixed.test:${receiver.port}/`)
    expect(result).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    if (result.kind === 'error') expect(result.message).toContain('mixed.test: ::1 is in ::1/128 (loopback)')
    expect(attempts).toEqual([])
    expect(receiver.connections()).toBe(0)
  })

  it('refuses IP literals, which Node dials without consulting any lookup', async () => {
    const receiver = await startReceiver(ok)
    const resolve = scriptedResolver(['93.184.215.14'])
    const deliverer = guardedDeliverer(strict, resolve)
    for (const host of ['127.0.0.1', '127.1', '2130706433', '0x7f.0.0.1', '[::ffff:127.0.0.1]', '[::1]']) {
      const result = await send(deliverer, `http://${host}:${receiver.port}/`)
      expect(result, host).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
    }
    expect(resolve.calls).toEqual([])
    expect(socketsCreated).toBe(0)
    expect(receiver.connections()).toBe(0)

    const allowed = await send(guardedDeliverer(loopbackAllowed, resolve), `http://127.0.0.1:${receiver.port}/`)
    expect(allowed).toMatchObject({ kind: 'response', status: 204 })
  })

  it('(why the connector checks literals) net.connect skips the lookup hook for an IP literal', async () => {
    const receiver = await startReceiver(ok)
    let lookups = 0
    const socket = netConnect({ host: '127.0.0.1', port: receiver.port, lookup: () => { lookups++ } })
    cleanups.push(async () => { socket.destroy() })
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    expect(lookups).toBe(0)
    await expect.poll(() => receiver.connections()).toBe(1)
  })

  it('does not follow a 302 to the metadata address', async () => {
    const receiver = await startReceiver((_req, res) => { res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end() })
    const resolve = scriptedResolver(['127.0.0.1'])
    const result = await send(guardedDeliverer(loopbackAllowed, resolve), `http://hooks.test:${receiver.port}/`)
    expect(result).toMatchObject({ kind: 'response', status: 302 })
    expect(result.kind === 'response' ? result.headers.location : undefined).toBe('http://169.254.169.254/latest/meta-data/')
    expect(receiver.requests).toEqual(['/'])
    expect(resolve.calls).toEqual(['hooks.test'])
    expect(attempts).toEqual([`127.0.0.1:${receiver.port}`])
  })

  it('guards redirect targets too, should a redirect interceptor ever be composed in', async () => {
    // The target is another loopback address, so a broken guard could only
    // ever reach loopback; the receiver listens on 127.0.0.1 alone, so a
    // dial that got through would fail as connection-refused, not ssrf-blocked.
    const receiver = await startReceiver((req, res) => { res.writeHead(302, { location: `http://127.0.0.2:${req.socket.localPort}/next` }).end() })
    const agent = new Agent({ connect: createSsrfConnector(createSsrfPolicy({ allowCidrs: ['127.0.0.1/32'] }), { timeout: 2_000 }) })
    cleanups.push(() => agent.close())
    const redirecting = agent.compose(interceptors.redirect({ maxRedirections: 2 }))
    const err = await redirecting.request({ origin: `http://127.0.0.1:${receiver.port}`, path: '/', method: 'GET' }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(classifyTransportError(err)).toBe('ssrf-blocked')
    expect(receiver.requests).toEqual(['/'])
    expect(attempts).toEqual([`127.0.0.1:${receiver.port}`])
    expect(socketsCreated).toBe(1)
  })

  describe('over TLS', () => {
    async function certificateFor (names: string): Promise<{ key: string, cert: string }> {
      const dir = await mkdtemp(join(tmpdir(), 'ssrf-tls-'))
      cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=rebind.test', '-addext', `subjectAltName=${names}`
      ])
      return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') }
    }

    it('judges the resolved address before the TLS handshake, and keeps SNI and verification for the name', async () => {
      const { key, cert } = await certificateFor('DNS:rebind.test')
      const receiver = await startReceiver(ok, createHttpsServer({ key, cert }) as unknown as Server)
      const url = `https://rebind.test:${receiver.port}/hook`

      const blocked = await send(guardedDeliverer(strict, scriptedResolver(['127.0.0.1']), { ca: cert }), url)
      expect(blocked).toMatchObject({ kind: 'error', code: 'ssrf-blocked' })
      expect(receiver.connections()).toBe(0)

      const delivered = await send(guardedDeliverer(loopbackAllowed, scriptedResolver(['127.0.0.1']), { ca: cert }), url)
      expect(delivered).toMatchObject({ kind: 'response', status: 204 })
      expect(receiver.requests).toEqual(['/hook'])
    })
  })
})
