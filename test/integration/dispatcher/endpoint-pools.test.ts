// Connection pools per endpoint (DeliveryRequest.pool), against a real HTTP
// server on 127.0.0.1: several endpoints on one origin each reach their own
// cap, and one whose requests hang holds only its own sockets (C3).
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpDeliverer, type HttpDeliverer, type HttpDelivererOptions } from '../../../services/dispatcher/src/delivery/http-deliverer.js'
import { generateSecret } from '../../../services/dispatcher/src/delivery/sign.js'
import type { AttemptResult, DeliveryRequest } from '../../../services/dispatcher/src/delivery/types.js'
import { startSharedOrigin, type SharedOrigin } from '../../support/shared-origin.js'
import { scaled, waitUntil } from '../../support/wait.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startOrigin (): Promise<SharedOrigin> {
  const origin = await startSharedOrigin()
  cleanups.push(origin.close)
  return origin
}

function deliverer (options: HttpDelivererOptions): HttpDeliverer {
  const instance = createHttpDeliverer({ version: 'pools-test', ...options })
  cleanups.push(instance.close)
  return instance
}

const secrets = [generateSecret()]
function request (url: string, pool: DeliveryRequest['pool'], n: number): DeliveryRequest {
  return { url, webhookId: `evt-${n}`, body: '{}', secrets, ...(pool === undefined ? {} : { pool }) }
}

function statuses (results: AttemptResult[]): Array<number | string> {
  return results.map((r) => (r.kind === 'response' ? r.status : r.code))
}

const CAP = 4
const ENDPOINTS = ['ep-a', 'ep-b', 'ep-c', 'ep-d']

describe('connection pools per endpoint', () => {
  it('four endpoints on one origin each reach their own cap at once: 4 × cap requests and connections', async () => {
    const origin = await startOrigin()
    for (const name of ENDPOINTS) origin.hold(`/${name}`, true)
    // Sized as main.ts does: the shared pool per origin has one endpoint's cap.
    const { deliver } = deliverer({ connectionsPerOrigin: CAP })
    const results = Promise.all(ENDPOINTS.flatMap((name) =>
      Array.from({ length: CAP }, async (_, i) => await deliver(request(origin.url(name), { id: name, connections: CAP }, i)))))

    // With one pool per origin, only CAP requests in all would be out.
    await waitUntil(`${CAP} requests of each endpoint held at once`, () =>
      ENDPOINTS.every((name) => origin.held.get(`/${name}`)?.length === CAP))
    expect(origin.connections().open).toBe(ENDPOINTS.length * CAP)

    for (const name of ENDPOINTS) origin.hold(`/${name}`, false)
    expect(statuses(await results)).toEqual(Array.from({ length: ENDPOINTS.length * CAP }, () => 204))
    // Each pool keeps to its cap: no socket beyond 4 × CAP was ever opened.
    expect(origin.connections().accepted).toBe(ENDPOINTS.length * CAP)
  })

  it('an endpoint whose requests hang keeps only its own sockets: another endpoint on the same origin keeps delivering', async () => {
    const origin = await startOrigin()
    origin.hold('/slow', true)
    // The hanging requests must outlive the whole test, whatever the machine's load.
    const { deliver } = deliverer({ connectionsPerOrigin: CAP, attemptTimeoutMs: scaled(120_000) })
    let slowSettled = false
    const slow = Promise.all(Array.from({ length: CAP }, async (_, i) => await deliver(request(origin.url('slow'), { id: 'slow', connections: CAP }, i))))
      .finally(() => { slowSettled = true })
    await waitUntil('the slow endpoint fills its cap', () => origin.held.get('/slow')?.length === CAP)

    // Five rounds of the other endpoint's cap, each round waiting for the last.
    const fast: AttemptResult[] = []
    for (let round = 0; round < 5; round++) {
      fast.push(...await Promise.all(Array.from({ length: CAP }, async (_, i) => await deliver(request(origin.url('fast'), { id: 'fast', connections: CAP }, round * CAP + i)))))
    }
    expect(statuses(fast)).toEqual(Array.from({ length: 5 * CAP }, () => 204))
    expect(origin.answered.get('/fast')).toBe(5 * CAP)
    // Delivered while every request of the slow endpoint still hangs: with a
    // shared pool they would have waited for the slow ones' deadline.
    expect(slowSettled).toBe(false)
    expect(origin.held.get('/slow')).toHaveLength(CAP)

    origin.hold('/slow', false)
    expect(statuses(await slow)).toEqual(Array.from({ length: CAP }, () => 204))
  })

  it('requests without a pool share one pool per origin, apart from the endpoint pools', async () => {
    const origin = await startOrigin()
    origin.hold('/ep-a', true)
    const { deliver } = deliverer({ connectionsPerOrigin: 2 })
    const held = Promise.all(Array.from({ length: CAP }, async (_, i) => await deliver(request(origin.url('ep-a'), { id: 'ep-a', connections: CAP }, i))))
    await waitUntil('the endpoint pool is full', () => origin.held.get('/ep-a')?.length === CAP)
    // A test event to the same origin still gets a socket of the shared pool.
    expect(statuses([await deliver(request(origin.url('test-event'), undefined, 99))])).toEqual([204])
    origin.hold('/ep-a', false)
    expect(statuses(await held)).toEqual(Array.from({ length: CAP }, () => 204))
    expect(origin.connections().accepted).toBe(CAP + 1)
  })

  it('a changed cap builds a pool of the new size; an idle pool is closed with its sockets', async () => {
    const origin = await startOrigin()
    origin.hold('/ep-a', true)
    // Keep-alive far longer than the idle limit: only closing the pool can close the sockets.
    const { deliver } = deliverer({ connectionsPerOrigin: 1, keepAliveTimeoutMs: 600_000, poolIdleMs: 1_000 })
    const first = Promise.all(Array.from({ length: 2 }, async (_, i) => await deliver(request(origin.url('ep-a'), { id: 'ep-a', connections: 2 }, i))))
    await waitUntil('two held on the pool of 2', () => origin.held.get('/ep-a')?.length === 2)
    const second = Promise.all(Array.from({ length: 3 }, async (_, i) => await deliver(request(origin.url('ep-a'), { id: 'ep-a', connections: 3 }, 10 + i))))
    await waitUntil('three more held on the pool of 3', () => origin.held.get('/ep-a')?.length === 5)
    origin.hold('/ep-a', false)
    expect(statuses([...await first, ...await second])).toEqual([204, 204, 204, 204, 204])
    expect(origin.connections()).toEqual({ accepted: 5, open: 5 })
    await waitUntil('both idle pools closed their sockets', () => origin.connections().open === 0, { timeoutMs: 10_000 })
  })
})
