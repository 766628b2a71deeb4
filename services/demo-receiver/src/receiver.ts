// A webhook receiver for local demos: verifies Standard Webhooks signatures
// with the dispatcher's own verifier (production dependencies only), dedupes
// on webhook-id, checks each account's order from the body alone
// (data.accountSequence: gaps and late events are noted on the line), and
// can be told to be slow or flaky.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeSecret, verifyWebhook } from '../../dispatcher/src/delivery/sign.js'
import { DEFAULT_PORT } from './config.js'
import { AccountOrder, accountPosition, describeVerdict } from './account-order.js'
import { reportLine } from './report-line.js'
import { SeenIds } from './seen-ids.js'

export interface DemoReceiverOptions {
  /** 0 picks a free port. @defaultValue 18088 */
  port?: number
  /** @defaultValue '127.0.0.1' */
  host?: string
  /** The `whsec_…` secret, or several (any one verifying is enough). */
  secret: string | readonly string[]
  /** Share of valid webhooks answered 500, from 0 to 1. @defaultValue 0 */
  failRate?: number
  /** Delay before answering a valid webhook. @defaultValue 0 */
  latencyMs?: number
  /** Larger request bodies are refused with 413. @defaultValue 1 MiB */
  maxBodyBytes?: number
  /** Where the one-line reports go. @defaultValue console.log */
  print?: (line: string) => void
  /** @defaultValue Math.random */
  random?: () => number
}

export interface DemoReceiverStats {
  /** Requests that carried a webhook (POSTs). */
  received: number
  /** Signature checked out. */
  valid: number
  /** Answered 401. */
  invalid: number
  /** Answered 500 on purpose (FAIL_RATE). */
  failed: number
  /** Valid, but the webhook-id was already accepted. */
  duplicates: number
  /** Distinct webhook-ids accepted with 204. */
  accepted: number
}

export interface DemoReceiver {
  /** `http://127.0.0.1:<port>/webhooks` */
  url: string
  stats: () => DemoReceiverStats
  /** Stops accepting, lets in-flight requests finish. Idempotent. */
  close: () => Promise<void>
}

class BodyTooLarge extends Error {}

async function readBody (req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new BodyTooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function parseJson (body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

export async function startDemoReceiver (options: DemoReceiverOptions): Promise<DemoReceiver> {
  const secrets = typeof options.secret === 'string' ? [options.secret] : [...options.secret]
  const failRate = options.failRate ?? 0
  const latencyMs = options.latencyMs ?? 0
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const print = options.print ?? ((line: string) => console.log(line))
  const random = options.random ?? Math.random
  // Fail at start-up, not on the first webhook, if a secret is malformed.
  for (const secret of secrets) decodeSecret(secret)

  const seen = new SeenIds()
  const order = new AccountOrder()
  const stats: DemoReceiverStats = { received: 0, valid: 0, invalid: 0, failed: 0, duplicates: 0, accepted: 0 }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end()
      return
    }
    const receivedAt = new Date()
    let body: Buffer
    try {
      body = await readBody(req, maxBodyBytes)
    } catch (err) {
      res.writeHead(err instanceof BodyTooLarge ? 413 : 400, { connection: 'close' }).end()
      return
    }
    stats.received++
    const verdict = verifyWebhook({ body, headers: req.headers, secrets })
    const webhookId = verdict.ok ? verdict.id : req.headers['webhook-id']?.toString()
    const report = (status: number, note?: string): void => {
      res.writeHead(status).end()
      print(reportLine({ receivedAt, webhookId, body: parseJson(body), signatureOk: verdict.ok, status, ...(note === undefined ? {} : { note }) }))
    }

    if (!verdict.ok) {
      stats.invalid++
      report(401, verdict.reason)
      return
    }
    stats.valid++
    if (latencyMs > 0) await sleep(latencyMs)
    if (failRate > 0 && random() < failRate) {
      stats.failed++
      report(500, 'failure injected')
      return
    }
    if (seen.has(verdict.id)) {
      stats.duplicates++
      report(204, 'duplicate')
      return
    }
    seen.add(verdict.id)
    stats.accepted++
    const position = accountPosition(body.toString('utf8'))
    const orderNote = position === undefined ? undefined : describeVerdict(order.observe(position.accountId, position.sequence))
    report(204, `#${stats.accepted}${orderNote === undefined ? '' : `  ${orderNote}`}`)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      print(`request failed: ${err instanceof Error ? err.message : String(err)}`)
      if (!res.headersSent) res.writeHead(500).end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address

  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}/webhooks`,
    stats: () => ({ ...stats }),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)))
        server.closeIdleConnections()
      })
      return closing
    }
  }
}
