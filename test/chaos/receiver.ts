/**
 * The chaos run's three webhook endpoints, on 127.0.0.1, in one process.
 * Every request is verified with the `standardwebhooks` library (what a
 * FinTech would use); the tally is kept in typed arrays per endpoint and
 * judged as requests arrive, so a million events need no list of receipts:
 * the first 2xx receipt of each webhook-id counts, a later one is a
 * duplicate (charged to the fault phase it arrived in), and per account the
 * first receipts must come in accountSequence order (DESIGN C2).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { seededRandom } from '../support/random.js'
import { accountIndexOf, expectedFor, indexOfEventId, typeIndexOf, type ChaosSubscription, type EventPlan } from './plan.js'

/** How an endpoint answers: `ok` always 204; `outage` 503 while down, else 204; `flaky` 500 for a seeded 10 %. */
export type EndpointBehaviour = 'ok' | 'outage' | 'flaky'

export interface EndpointTally {
  id: string
  expected: number
  /** Distinct events received with a 2xx answer. */
  firsts: number
  /** Repeated 2xx receipts of an event, by the fault phase they arrived in. */
  duplicatesByPhase: Record<string, number>
  /** First receipts with a lower accountSequence than an earlier first receipt of the account. */
  orderViolations: number
  violationSamples: Array<{ account: number, after: number, sequence: number }>
  badSignatures: number
  /** Webhooks of events this subscription does not match, or of no event of the run. */
  unexpected: number
  /** Answers by status. */
  statuses: Record<string, number>
  firstReceiptAt: number | undefined
  lastFirstReceiptAt: number | undefined
}

export interface ChaosEndpoint {
  url: string
  tally: EndpointTally
  /** Whether every expected event has arrived. */
  complete: () => boolean
  /** Lost so far: expected events with no 2xx receipt. */
  missing: () => number
}

export interface ChaosReceiver {
  endpoints: Map<string, ChaosEndpoint>
  /** The fault phase duplicates are charged to from now on. */
  setPhase: (phase: string) => void
  /** An `outage` endpoint answers 503 while down. */
  setDown: (id: string, down: boolean) => void
  close: () => Promise<void>
}

const FLAKY_RATE = 0.1

export async function startChaosReceiver (plan: EventPlan, secret: string, subscriptions: ReadonlyArray<ChaosSubscription & { behaviour: EndpointBehaviour }>): Promise<ChaosReceiver> {
  const webhook = new Webhook(secret)
  let phase = 'before any fault'
  const down = new Set<string>()
  const servers: Server[] = []
  const endpoints = new Map<string, ChaosEndpoint>()

  for (const [n, sub] of subscriptions.entries()) {
    const receipts = new Uint8Array(plan.events)
    const lastSequence = new Float64Array(plan.accounts)
    const random = seededRandom(1000 + n)
    const tally: EndpointTally = {
      id: sub.id,
      expected: expectedFor(plan, sub),
      firsts: 0,
      duplicatesByPhase: {},
      orderViolations: 0,
      violationSamples: [],
      badSignatures: 0,
      unexpected: 0,
      statuses: {},
      firstReceiptAt: undefined,
      lastFirstReceiptAt: undefined
    }
    const answer = (): number => {
      if (sub.behaviour === 'outage' && down.has(sub.id)) return 503
      if (sub.behaviour === 'flaky' && random() < FLAKY_RATE) return 500
      return 204
    }
    const accept = (webhookId: string, data: { accountId?: unknown, accountSequence?: unknown }): void => {
      const i = indexOfEventId(plan, webhookId)
      const account = accountIndexOf(data.accountId)
      if (i === undefined || account === undefined || typeof data.accountSequence !== 'number' || !sub.matches(typeIndexOf(plan, i))) {
        tally.unexpected++
        return
      }
      const seen = receipts[i] as number
      if (seen > 0) {
        if (seen < 255) receipts[i] = seen + 1
        tally.duplicatesByPhase[phase] = (tally.duplicatesByPhase[phase] ?? 0) + 1
        return
      }
      receipts[i] = 1
      tally.firsts++
      const now = Date.now()
      tally.firstReceiptAt ??= now
      tally.lastFirstReceiptAt = now
      const before = lastSequence[account] as number
      if (data.accountSequence < before) {
        tally.orderViolations++
        if (tally.violationSamples.length < 10) tally.violationSamples.push({ account, after: before, sequence: data.accountSequence })
      } else {
        lastSequence[account] = data.accountSequence
      }
    }
    const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const webhookId = String(req.headers['webhook-id'])
        let payload: { data?: { accountId?: unknown, accountSequence?: unknown } }
        try {
          payload = webhook.verify(raw, {
            'webhook-id': webhookId,
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature'])
          }) as typeof payload
        } catch {
          tally.badSignatures++
          tally.statuses['401'] = (tally.statuses['401'] ?? 0) + 1
          res.writeHead(401).end()
          return
        }
        const status = answer()
        tally.statuses[String(status)] = (tally.statuses[String(status)] ?? 0) + 1
        if (status >= 200 && status < 300) accept(webhookId, payload.data ?? {})
        res.writeHead(status).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    endpoints.set(sub.id, {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${sub.id}`,
      tally,
      complete: () => tally.firsts >= tally.expected,
      missing: () => tally.expected - tally.firsts
    })
  }

  return {
    endpoints,
    setPhase: (next) => { phase = next },
    setDown: (id, isDown) => { if (isDown) down.add(id); else down.delete(id) },
    close: async () => {
      await Promise.all(servers.map(async (server) => {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }))
    }
  }
}
