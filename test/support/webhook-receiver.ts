import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

/** One webhook as a receiver saw it, signature verified with the official library. */
export interface ReceivedWebhook {
  webhookId: string
  type: string
  accountId: string
  accountSequence: number
  body: Record<string, unknown>
  /** The body as sent, for what JSON.parse would round (a long beyond 2^53); set by startTestReceiver. */
  raw?: string
  receivedAt: number
  /** The status this receiver answered. */
  status: number
}

/** How the receiver answers one request; `hang` never answers. */
export type Behaviour = (request: { webhookId: string, accountId: string, attempt: number }) =>
  { status: number, delayMs?: number, hang?: boolean, headers?: Record<string, string> }

export interface TestReceiver {
  url: string
  /** Every request that passed signature verification, in arrival order. */
  received: ReceivedWebhook[]
  /** Only the ones answered with 2xx. */
  accepted: () => ReceivedWebhook[]
  /**
   * How many distinct webhook ids were answered with 2xx: what to wait on,
   * since a redelivery (C4: after a rebalance on a loaded machine, say) may
   * repeat one, and receivers dedupe on `webhook-id`.
   */
  acceptedIds: () => number
  /** Requests whose signature did not verify. */
  badSignatures: number
  setBehaviour: (behaviour: Behaviour) => void
  close: () => Promise<void>
}

/**
 * A webhook endpoint on 127.0.0.1 for end-to-end tests: verifies every
 * request with the `standardwebhooks` package and answers as its behaviour says.
 */
export async function startTestReceiver (secret: string, behaviour: Behaviour = () => ({ status: 204 })): Promise<TestReceiver> {
  const webhook = new Webhook(secret)
  const attempts = new Map<string, number>()
  const hanging = new Set<IncomingMessage>()
  let current = behaviour
  const state: TestReceiver = {
    url: '',
    received: [],
    accepted: () => state.received.filter((r) => r.status >= 200 && r.status < 300),
    acceptedIds: () => new Set(state.accepted().map((r) => r.webhookId)).size,
    badSignatures: 0,
    setBehaviour: (b) => { current = b },
    close: async () => {
      for (const req of hanging) req.socket.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let payload: { type: string, data: { accountId: string, accountSequence: number } }
      try {
        payload = webhook.verify(raw, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature'])
        }) as typeof payload
      } catch {
        state.badSignatures++
        res.writeHead(401).end()
        return
      }
      const webhookId = String(req.headers['webhook-id'])
      const attempt = (attempts.get(webhookId) ?? 0) + 1
      attempts.set(webhookId, attempt)
      const answer = current({ webhookId, accountId: payload.data.accountId, attempt })
      const record = (status: number): void => {
        state.received.push({
          webhookId,
          type: payload.type,
          accountId: payload.data.accountId,
          accountSequence: payload.data.accountSequence,
          body: payload as unknown as Record<string, unknown>,
          raw,
          receivedAt: Date.now(),
          status
        })
      }
      if (answer.hang === true) {
        hanging.add(req)
        record(0)
        return
      }
      const respond = (): void => {
        record(answer.status)
        res.writeHead(answer.status, answer.headers).end()
      }
      if (answer.delayMs !== undefined && answer.delayMs > 0) setTimeout(respond, answer.delayMs)
      else respond()
    })
  })
  // Idle connections stay open longer than the dispatcher keeps them (4 s):
  // the client closes first. With Node's 5 s default, a loaded machine's late
  // timers let the dispatcher reuse a socket this server was closing, and the
  // attempt failed as a network error that no receiver would cause.
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 130_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`
  return state
}
