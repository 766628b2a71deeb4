import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, LookupFunction } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createHttpDeliverer, SSRF_BLOCKED_CODE, type HttpDeliverer, type HttpDelivererOptions } from '../../../services/dispatcher/src/delivery/http-deliverer.js'
import { generateSecret } from '../../../services/dispatcher/src/delivery/sign.js'
import type { AttemptResult, DeliveryRequest } from '../../../services/dispatcher/src/delivery/types.js'
import { waitUntil } from '../../support/wait.js'

interface Received {
  headers: IncomingMessage['headers']
  body: string
  /** What the official Standard Webhooks library made of the request. */
  verified: unknown
}

interface Receiver {
  url: string
  port: number
  requests: Received[]
  /** TCP connections accepted so far. */
  connections: () => number
  close: () => Promise<void>
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function listen (server: Server, secret: string | undefined, handler: Handler, scheme = 'http'): Promise<Receiver> {
  const requests: Received[] = []
  let connections = 0
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', () => { connections++ })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let verified: unknown
      try {
        verified = secret === undefined ? undefined : new Webhook(secret).verify(body, req.headers as Record<string, string>)
      } catch (err) {
        verified = err
      }
      requests.push({ headers: req.headers, body, verified })
      handler(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const receiver: Receiver = {
    url: `${scheme}://127.0.0.1:${port}/hooks/in?tenant=a`,
    port,
    requests,
    connections: () => connections,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  cleanups.push(receiver.close)
  return receiver
}

function startReceiver (handler: Handler, secret?: string): Promise<Receiver> {
  return listen(createHttpServer(), secret, handler)
}

function status (code: number, headers: Record<string, string> = {}): Handler {
  return (_req, res) => res.writeHead(code, headers).end()
}

function deliverer (options: HttpDelivererOptions = {}): HttpDeliverer {
  const instance = createHttpDeliverer({ version: '9.9.9-test', ...options })
  cleanups.push(instance.close)
  return instance
}

const body = JSON.stringify({
  type: 'transaction.posted',
  timestamp: '2024-05-01T10:15:30.123Z',
  data: { accountId: 'acc-1', accountSequence: 1, amount: '12.50', currency: 'EUR', memo: 'Zoë' }
})

function request (url: string, secrets: string[], over: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return { url, webhookId: 'evt_3f1c2d4b-5a69-4a53-9a7e-0b7e1f0e8d3c', body, secrets, ...over }
}

function expectResponse (result: AttemptResult): Extract<AttemptResult, { kind: 'response' }> {
  if (result.kind !== 'response') throw new Error(`expected a response, got ${result.code}: ${result.message}`)
  return result
}

function expectError (result: AttemptResult): Extract<AttemptResult, { kind: 'error' }> {
  if (result.kind !== 'error') throw new Error(`expected an error, got status ${result.status}`)
  return result
}

async function unusedPort (): Promise<number> {
  const server = createHttpServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('createHttpDeliverer', () => {
  it('POSTs the body, signed so the official standardwebhooks library verifies it', async () => {
    const secret = generateSecret()
    const receiver = await startReceiver(status(204), secret)
    const result = expectResponse(await deliverer().deliver(request(receiver.url, [secret])))

    expect(result.status).toBe(204)
    expect(receiver.requests).toHaveLength(1)
    const [received] = receiver.requests
    expect(received?.verified).toEqual(JSON.parse(body))
    expect(received?.body).toBe(body)
    expect(received?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'webhook-dispatcher/9.9.9-test',
      'webhook-id': 'evt_3f1c2d4b-5a69-4a53-9a7e-0b7e1f0e8d3c',
      'content-length': String(Buffer.byteLength(body))
    })
    expect(received?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(result.durationMs).toBeGreaterThan(0)
  })

  it('leaves the version out of the user-agent with version: false (USER_AGENT_VERSION=false)', async () => {
    const receiver = await startReceiver(status(204))
    expectResponse(await deliverer({ version: false }).deliver(request(receiver.url, [generateSecret()])))
    expect(receiver.requests[0]?.headers['user-agent']).toBe('webhook-dispatcher')
  })

  it('signs with every secret during rotation, so a receiver knowing either one verifies', async () => {
    const oldSecret = generateSecret()
    const newSecret = generateSecret()
    const knowsOld = await startReceiver(status(200), oldSecret)
    const knowsNew = await startReceiver(status(200), newSecret)
    const { deliver } = deliverer()

    await deliver(request(knowsOld.url, [oldSecret, newSecret]))
    await deliver(request(knowsNew.url, [oldSecret, newSecret]))

    expect(String(knowsOld.requests[0]?.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(knowsOld.requests[0]?.verified).toEqual(JSON.parse(body))
    expect(knowsNew.requests[0]?.verified).toEqual(JSON.parse(body))
  })

  it('returns 2xx, 4xx and 5xx statuses and their headers as they are', async () => {
    const codes = [200, 201, 202, 204, 400, 401, 404, 410, 429, 500, 502, 503]
    const receiver = await startReceiver((req, res) => {
      const code = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status'))
      res.writeHead(code, { 'retry-after': '17', 'x-multi': ['a', 'b'] }).end('{"error":"nope"}')
    })
    const { deliver } = deliverer()
    for (const code of codes) {
      const result = expectResponse(await deliver(request(`http://127.0.0.1:${receiver.port}/?status=${code}`, [generateSecret()])))
      expect(result.status, String(code)).toBe(code)
      expect(result.headers['retry-after']).toBe('17')
      expect(result.headers['x-multi']).toBe('a, b')
    }
  })

  it('never follows a redirect: the 302 is the result and the target receives nothing', async () => {
    const target = await startReceiver(status(200))
    const redirector = await startReceiver(status(302, { location: target.url }))
    const result = expectResponse(await deliverer().deliver(request(redirector.url, [generateSecret()])))

    expect(result.status).toBe(302)
    expect(result.headers.location).toBe(target.url)
    expect(redirector.requests).toHaveLength(1)
    expect(target.requests).toHaveLength(0)
    expect(target.connections()).toBe(0)
  })

  it('gives up on a receiver that never answers at the attempt deadline', async () => {
    const hung = await startReceiver(() => {})
    const result = expectError(await deliverer({ attemptTimeoutMs: 400 }).deliver(request(hung.url, [generateSecret()])))
    expect(result.code).toBe('timeout')
    expect(result.durationMs).toBeGreaterThanOrEqual(390)
    expect(result.durationMs).toBeLessThan(2_000)
  })

  it('lets DeliveryRequest.timeoutMs override the default deadline', async () => {
    const hung = await startReceiver(() => {})
    const result = expectError(await deliverer({ attemptTimeoutMs: 60_000 }).deliver(request(hung.url, [generateSecret()], { timeoutMs: 300 })))
    expect(result.code).toBe('timeout')
    expect(result.durationMs).toBeLessThan(2_000)
  })

  it('bounds the body read too: a receiver that trickles a never-ending body cannot hold the attempt', async () => {
    let responseClosed = false
    const trickle = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      // A byte every 50 ms keeps any inactivity timer happy; only a deadline
      // on the whole attempt ends this.
      const timer = setInterval(() => res.write('.'), 50)
      res.on('close', () => {
        clearInterval(timer)
        responseClosed = true
      })
    })
    const result = expectResponse(await deliverer({ attemptTimeoutMs: 500 }).deliver(request(trickle.url, [generateSecret()])))

    // The status was received; the body is discarded anyway.
    expect(result.status).toBe(200)
    expect(result.durationMs).toBeGreaterThanOrEqual(490)
    expect(result.durationMs).toBeLessThan(2_500)
    await vi.waitFor(() => expect(responseClosed).toBe(true))
  })

  it('reads at most the response-body limit of a huge body, then drops that socket and carries on', async () => {
    let bytesWritten = 0
    let responseClosed = false
    const receiver = await startReceiver((req, res) => {
      if (req.url?.includes('small') === true) {
        res.writeHead(200).end('x'.repeat(10 * 1024))
        return
      }
      // An endless body: only a reader that stops early gets past it.
      res.on('close', () => { responseClosed = true })
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) bytesWritten += chunk.length
      }
      res.on('drain', pump)
      pump()
    })
    const { deliver } = deliverer({ attemptTimeoutMs: 10_000, maxResponseBodyBytes: 64 * 1024 })

    const huge = expectResponse(await deliver(request(`http://127.0.0.1:${receiver.port}/huge`, [generateSecret()])))
    expect(huge.status).toBe(200)
    expect(huge.durationMs).toBeLessThan(5_000)
    await vi.waitFor(() => expect(responseClosed).toBe(true))
    expect(bytesWritten).toBeLessThan(64 * 1024 * 1024)

    // The pool is still usable; small bodies are read to the end, so their
    // socket goes back to the pool and is used again.
    const connectionsBefore = receiver.connections()
    expect(expectResponse(await deliver(request(`http://127.0.0.1:${receiver.port}/small`, [generateSecret()]))).status).toBe(200)
    expect(expectResponse(await deliver(request(`http://127.0.0.1:${receiver.port}/small`, [generateSecret()]))).status).toBe(200)
    expect(receiver.connections()).toBe(connectionsBefore + 1)
  })

  it('keeps the start of the body when asked (a character cut in two left out), reads the rest, and reuses the socket', async () => {
    // 'é' is two bytes in UTF-8; a 5-byte prefix of 'busyé…' cuts it in two.
    const receiver = await startReceiver((_req, res) => { res.writeHead(503, { 'retry-after': '7' }).end(`busyé${'x'.repeat(20_000)}`) })
    const { deliver } = deliverer({ responseBodyPrefixBytes: 5 })
    const first = expectResponse(await deliver(request(receiver.url, [generateSecret()])))
    expect(first).toMatchObject({ status: 503, bodyPrefix: 'busy', headers: { 'retry-after': '7' } })
    const whole = expectResponse(await deliverer({ responseBodyPrefixBytes: 6 }).deliver(request(receiver.url, [generateSecret()])))
    expect(whole.bodyPrefix).toBe('busyé')
    expect(expectResponse(await deliver(request(receiver.url, [generateSecret()]))).bodyPrefix).toBe('busy')
    // The first deliverer read both bodies to their end: one socket for both.
    expect(receiver.connections()).toBe(2)
  })

  it('keeps no body by default', async () => {
    const receiver = await startReceiver((_req, res) => { res.writeHead(200).end('ok') })
    expect(expectResponse(await deliverer().deliver(request(receiver.url, [generateSecret()]))).bodyPrefix).toBeUndefined()
  })

  it('passes over 1xx informational responses to the final status', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeProcessing()
      res.writeHead(201).end()
    })
    expect(expectResponse(await deliverer().deliver(request(receiver.url, [generateSecret()]))).status).toBe(201)
  })

  it('keeps connections alive: sequential deliveries share one socket', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'))
    const { deliver } = deliverer()
    for (let i = 0; i < 6; i++) {
      expect(expectResponse(await deliver(request(receiver.url, [generateSecret()]))).status).toBe(200)
    }
    expect(receiver.requests).toHaveLength(6)
    expect(receiver.connections()).toBe(1)
  })

  it('opens up to connectionsPerOrigin sockets for concurrent deliveries, and no more', async () => {
    const pending: ServerResponse[] = []
    const receiver = await startReceiver((_req, res) => { pending.push(res) })
    const { deliver } = deliverer({ connectionsPerOrigin: 2 })
    const results = Promise.all(Array.from({ length: 5 }, async () => await deliver(request(receiver.url, [generateSecret()]))))

    await vi.waitFor(() => expect(pending).toHaveLength(2))
    // Answer in turns; queued requests go out on the two existing sockets.
    await vi.waitFor(() => {
      for (const res of pending.splice(0)) res.writeHead(204).end()
      expect(receiver.requests).toHaveLength(5)
    })
    for (const res of pending.splice(0)) res.writeHead(204).end()
    expect((await results).map((r) => expectResponse(r).status)).toEqual([204, 204, 204, 204, 204])
    expect(receiver.connections()).toBe(2)
  })

  it('stamps each attempt with its own webhook-timestamp from the clock, keeping webhook-id', async () => {
    const secret = generateSecret()
    const receiver = await startReceiver(status(503), secret)
    const base = Math.floor(Date.now() / 1000) * 1000
    let calls = 0
    const now = (): number => base + 60_000 * calls++
    const { deliver } = deliverer({ now })

    await deliver(request(receiver.url, [secret]))
    await deliver(request(receiver.url, [secret]))

    const [first, second] = receiver.requests
    expect(first?.headers['webhook-timestamp']).toBe(String(base / 1000))
    expect(second?.headers['webhook-timestamp']).toBe(String(base / 1000 + 60))
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id'])
    expect(second?.headers['webhook-signature']).not.toBe(first?.headers['webhook-signature'])
    expect(first?.verified).toEqual(JSON.parse(body))
    expect(second?.verified).toEqual(JSON.parse(body))
  })

  it('maps a refused connection to connection-refused', async () => {
    const port = await unusedPort()
    const result = expectError(await deliverer().deliver(request(`http://127.0.0.1:${port}/`, [generateSecret()])))
    expect(result.code).toBe('connection-refused')
    expect(result.message).toContain('ECONNREFUSED')
  })

  it('maps a connection closed before the response to reset', async () => {
    const receiver = await startReceiver((req) => { req.socket.destroy() })
    const result = expectError(await deliverer().deliver(request(receiver.url, [generateSecret()])))
    expect(result.code).toBe('reset')
  })

  it('maps a garbage response to other', async () => {
    const server = createHttpServer()
    server.on('connection', (socket) => { socket.end('NOT HTTP AT ALL\r\n\r\n') })
    const receiver = await listen(server, undefined, () => {})
    const result = expectError(await deliverer().deliver(request(receiver.url, [generateSecret()])))
    expect(result.code).toBe('other')
  })

  describe('the connect hook', () => {
    const lookupTo = (address: string): LookupFunction => (_hostname, options, callback) => {
      if (options.all === true) callback(null, [{ address, family: 4 }])
      else callback(null, address, 4)
    }
    const failingLookup = (code: string): LookupFunction => (hostname, _options, callback) => {
      callback(Object.assign(new Error(`lookup ${hostname} failed`), { code }), '', 4)
    }

    it('passes connect options such as a custom lookup through to the connector', async () => {
      const receiver = await startReceiver(status(204))
      const { deliver } = deliverer({ connect: { lookup: lookupTo('127.0.0.1') } })
      const result = expectResponse(await deliver(request(`http://receiver.test:${receiver.port}/`, [generateSecret()])))
      expect(result.status).toBe(204)
      expect(receiver.requests[0]?.headers.host).toBe(`receiver.test:${receiver.port}`)
    })

    it('maps a refusal with the SSRF code to ssrf-blocked, without connecting', async () => {
      const receiver = await startReceiver(status(204))
      const { deliver } = deliverer({ connect: { lookup: failingLookup(SSRF_BLOCKED_CODE) } })
      const result = expectError(await deliver(request(`http://receiver.test:${receiver.port}/`, [generateSecret()])))
      expect(result.code).toBe('ssrf-blocked')
      expect(receiver.connections()).toBe(0)
    })

    it('maps name-resolution failures to dns', async () => {
      for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
        const { deliver } = deliverer({ connect: { lookup: failingLookup(code) } })
        expect(expectError(await deliver(request('http://receiver.test/', [generateSecret()]))).code, code).toBe('dns')
      }
    })

    it('maps a connect that does not finish within connectTimeoutMs to connect-timeout', async () => {
      const neverResolves: LookupFunction = () => {}
      const { deliver } = deliverer({ connectTimeoutMs: 200, attemptTimeoutMs: 5_000, connect: { lookup: neverResolves } })
      const result = expectError(await deliver(request('http://receiver.test/', [generateSecret()])))
      expect(result.code).toBe('connect-timeout')
      expect(result.durationMs).toBeLessThan(2_000)
    })
  })

  describe('TLS', () => {
    async function selfSignedCert (): Promise<{ key: string, cert: string }> {
      const dir = await mkdtemp(join(tmpdir(), 'deliverer-tls-'))
      cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'
      ])
      return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') }
    }

    it('verifies certificates: an untrusted one is a tls error, a trusted CA gets through', async () => {
      const { key, cert } = await selfSignedCert()
      const secret = generateSecret()
      const receiver = await listen(createHttpsServer({ key, cert }) as unknown as Server, secret, status(204), 'https')

      const untrusted = expectError(await deliverer().deliver(request(receiver.url, [secret])))
      expect(untrusted.code).toBe('tls')
      expect(receiver.requests).toHaveLength(0)

      // Trusting the CA is possible; switching verification off is not.
      const trusted = deliverer({ connect: { ca: cert, rejectUnauthorized: false } })
      expect(expectResponse(await trusted.deliver(request(receiver.url, [secret]))).status).toBe(204)
      expect(receiver.requests[0]?.verified).toEqual(JSON.parse(body))
      const stillVerifying = deliverer({ connect: { rejectUnauthorized: false } })
      expect(expectError(await stillVerifying.deliver(request(receiver.url, [secret]))).code).toBe('tls')
    })

    it('maps a TLS handshake with a plain-HTTP server to tls', async () => {
      const plain = await startReceiver(status(200))
      const result = expectError(await deliverer().deliver(request(`https://127.0.0.1:${plain.port}/`, [generateSecret()])))
      expect(result.code).toBe('tls')
    })
  })

  describe('never rejects', () => {
    it('turns a bad secret, a bad URL and an unsupported scheme into other, sending nothing', async () => {
      const receiver = await startReceiver(status(204))
      const { deliver } = deliverer()
      for (const req of [
        request(receiver.url, ['whsec_!!not-base64!!']),
        request(receiver.url, []),
        request('not a url', [generateSecret()]),
        request(`ftp://127.0.0.1:${receiver.port}/`, [generateSecret()])
      ]) {
        const result = expectError(await deliver(req))
        expect(result.code).toBe('other')
        expect(result.message).not.toContain('not-base64')
      }
      expect(receiver.connections()).toBe(0)
    })

    it('ends attempts still in flight when closed, so shutdown does not wait out an endpoint that never answers', async () => {
      let arrived = 0
      const hung = await startReceiver(() => { arrived++ })
      const instance = deliverer({ attemptTimeoutMs: 120_000 })
      // Both pool kinds: the shared one and an endpoint's own.
      const attempts = [instance.deliver(request(hung.url, [generateSecret()])), instance.deliver(request(hung.url, [generateSecret()], { pool: { id: 'sub-1', connections: 2 } }))]
      await waitUntil('both requests reach the receiver', () => arrived === 2)
      await instance.close()
      for (const result of await Promise.all(attempts)) {
        const error = expectError(result)
        expect(error.code).toBe('other')
        expect(error.message).toMatch(/shut down before the endpoint answered/)
      }
    })

    it('ends an attempt when the request\'s signal aborts, and starts none with a signal already aborted', async () => {
      let arrived = 0
      const hung = await startReceiver(() => { arrived++ })
      const instance = deliverer({ attemptTimeoutMs: 120_000 })
      const controller = new AbortController()
      const attempt = instance.deliver(request(hung.url, [generateSecret()], { signal: controller.signal }))
      await waitUntil('the request reaches the receiver', () => arrived === 1)
      controller.abort()
      const error = expectError(await attempt)
      expect(error.code).toBe('other')
      expect(error.message).toMatch(/stopped/)
      expect(expectError(await instance.deliver(request(hung.url, [generateSecret()], { signal: controller.signal }))).message).toMatch(/before it started/)
      expect(arrived).toBe(1)
    })

    it('answers other after close(); close() twice is safe', async () => {
      const receiver = await startReceiver(status(204))
      const instance = deliverer()
      expect(expectResponse(await instance.deliver(request(receiver.url, [generateSecret()]))).status).toBe(204)
      const first = instance.close()
      expect(instance.close()).toBe(first)
      await first
      expect(expectError(await instance.deliver(request(receiver.url, [generateSecret()]))).code).toBe('other')
    })
  })

  it('refuses nonsensical options at construction', () => {
    expect(() => createHttpDeliverer({ attemptTimeoutMs: 0 })).toThrow(RangeError)
    expect(() => createHttpDeliverer({ connectionsPerOrigin: 1.5 })).toThrow(/connectionsPerOrigin/)
    expect(() => createHttpDeliverer({ maxPools: 0 })).toThrow(/maxPools/)
    expect(() => createHttpDeliverer({ poolIdleMs: -1 })).toThrow(/poolIdleMs/)
  })

  it('fails a request whose pool size is not a positive integer, before anything is sent', async () => {
    const receiver = await startReceiver(status(204))
    const { deliver } = deliverer()
    const failed = expectError(await deliver(request(receiver.url, [generateSecret()], { pool: { id: 'ep', connections: 0 } })))
    expect(failed.code).toBe('other')
    expect(failed.message).toMatch(/pool.connections/)
    expect(receiver.connections()).toBe(0)
  })
})
