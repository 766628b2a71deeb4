// The benchmark's webhook sink, run as its own process (receiver.ts starts
// it) so that its event loop never competes with the load it measures. It
// answers every POST with 204, at once or after the delay set by reset, and
// records each webhook-id with its arrival time. Verifying every signature
// would make the sink the bottleneck; one request in VERIFY_EVERY is
// verified, enough to catch a signing regression.
//
// Control (same port, /_control/…): POST reset?delayMs=N, GET stats,
// GET receipts. Prints {"port":N} on stdout once listening.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { verifyWebhook } from '../../services/dispatcher/src/delivery/sign.js'

const VERIFY_EVERY = 50
const secret = process.env.BENCH_RECEIVER_SECRET ?? ''
if (secret === '') {
  process.stderr.write('bench receiver: BENCH_RECEIVER_SECRET is required\n')
  process.exit(2)
}

let delayMs = 0
let ids: string[] = []
let at: number[] = []
let seen = new Set<string>()
let firstAt: number | undefined
let lastAt: number | undefined
let inFlight = 0
let maxInFlight = 0
let connections = 0
let verified = 0
let badSignatures = 0
let withoutId = 0
let requests = 0
let cpuAtReset = process.cpuUsage()
const sockets = new Set<Socket>()

const now = (): number => performance.timeOrigin + performance.now()

function reset (delay: number): void {
  delayMs = delay
  ids = []
  at = []
  seen = new Set()
  firstAt = undefined
  lastAt = undefined
  maxInFlight = inFlight
  connections = 0
  verified = 0
  badSignatures = 0
  withoutId = 0
  requests = 0
  cpuAtReset = process.cpuUsage()
}

function json (res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function control (req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://receiver')
  req.resume()
  if (url.pathname === '/_control/reset' && req.method === 'POST') {
    reset(Number(url.searchParams.get('delayMs') ?? '0'))
    json(res, { ok: true })
    return
  }
  if (url.pathname === '/_control/stats') {
    const cpu = process.cpuUsage(cpuAtReset)
    json(res, {
      requests,
      received: ids.length,
      distinct: seen.size,
      firstAt,
      lastAt,
      maxInFlight,
      connections,
      openConnections: sockets.size,
      verified,
      badSignatures,
      withoutId,
      cpuSeconds: (cpu.user + cpu.system) / 1e6
    })
    return
  }
  if (url.pathname === '/_control/receipts') {
    json(res, { ids, at })
    return
  }
  res.writeHead(404).end()
}

function record (id: string | undefined, raw: Buffer | undefined, headers: IncomingMessage['headers']): void {
  const t = now()
  if (id === undefined || id === '') {
    withoutId++
    return
  }
  if (raw !== undefined) {
    const result = verifyWebhook({ body: raw, headers, secrets: [secret] })
    if (result.ok) verified++
    else badSignatures++
  }
  ids.push(id)
  at.push(t)
  if (!seen.has(id)) {
    seen.add(id)
    firstAt ??= t
    lastAt = t
  }
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.url?.startsWith('/_control/') === true) {
    control(req, res)
    return
  }
  requests++
  inFlight++
  if (inFlight > maxInFlight) maxInFlight = inFlight
  const header = req.headers['webhook-id']
  const id = typeof header === 'string' ? header : undefined
  const verify = requests % VERIFY_EVERY === 1
  const chunks: Buffer[] = []
  if (verify) req.on('data', (chunk: Buffer) => chunks.push(chunk))
  else req.resume()
  req.on('end', () => {
    record(id, verify ? Buffer.concat(chunks) : undefined, req.headers)
    const answer = (): void => {
      inFlight--
      res.writeHead(204).end()
    }
    if (delayMs > 0) setTimeout(answer, delayMs)
    else answer()
  })
})
server.on('connection', (socket: Socket) => {
  connections++
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}
