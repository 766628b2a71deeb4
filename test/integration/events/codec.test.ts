import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createEventCodec, createEventRegistry, deleteSubject, EventDecodeError, frameWire, RegistryUnavailableError, type FamilyName
} from '../../../services/events/src/index.js'
import { accountStatusEvent, fraudAlertEvent, transactionEvent } from '../../unit/events/fixtures.js'
import { uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'

const subjects: string[] = []
let registryUrl: string

function topicFor (family: FamilyName): string {
  const topic = uniqueTopic(`test-codec-${family}`)
  subjects.push(`${topic}-value`)
  return topic
}

async function failure (promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a failure')
}

/** A loopback port that refuses connections: bound, then released. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  registryUrl = (await testStack()).registryUrl
})

afterEach(async () => {
  await Promise.all(subjects.splice(0).map(async (subject) => await deleteSubject({ url: registryUrl }, subject)))
})

describe('codec against the real registry', () => {
  it.each([
    ['transactions', transactionEvent()],
    ['accounts', accountStatusEvent()],
    ['fraud', fraudAlertEvent()]
  ] as const)('registers under <topic>-value and round-trips a %s event', async (family, event) => {
    const registry = createEventRegistry({ url: registryUrl })
    const codec = createEventCodec({ registry })
    const topic = topicFor(family)
    const value = await codec.encode(family, event, { topic })
    const id = await registry.schemaId(family, topic)
    expect(value.readInt32BE(1)).toBe(id)

    // A fresh client has nothing cached: decoding fetches the schema by id.
    const decoded = await createEventCodec({ registry: createEventRegistry({ url: registryUrl }) }).decode(value)
    expect(decoded.family).toBe(family)
    expect(decoded.schemaId).toBe(id)
    expect({ ...decoded.event, occurredAt: decoded.event.occurredAt.toISOString() })
      .toMatchObject({ ...event, occurredAt: event.occurredAt.toISOString(), ...(family === 'transactions' ? { amount: '1234.5000', balanceAfter: '-10.0001' } : {}) })
  })

  it('gives each kind of bad record its reason', async () => {
    const registry = createEventRegistry({ url: registryUrl })
    const codec = createEventCodec({ registry })
    const good = await codec.encode('transactions', transactionEvent(), { topic: topicFor('transactions') })

    const cases: Array<[string, Buffer, string]> = [
      ['short record', Buffer.from([0, 0, 1]), 'record_too_short'],
      ['bad magic byte', Buffer.concat([Buffer.from([1]), good.subarray(1)]), 'bad_magic_byte'],
      ['unknown schema id', frameWire(2_000_000_000, good.subarray(5)), 'unknown_schema_id'],
      ['corrupt Avro', good.subarray(0, good.length - 4), 'corrupt_avro']
    ]
    for (const [name, value, reason] of cases) {
      const error = await failure(codec.decode(value))
      expect(error, name).toBeInstanceOf(EventDecodeError)
      expect((error as EventDecodeError).code, name).toBe('WHE_ERR_DECODE')
      expect((error as EventDecodeError).reason, name).toBe(reason)
      expect((error as EventDecodeError).retriable, name).toBe(false)
    }
  })

  it('reports a registry that refuses connections as unavailable, not as bad input', async () => {
    const codec = createEventCodec({ registry: createEventRegistry({ url: `http://127.0.0.1:${await closedPort()}`, retries: 0 }) })
    const error = await failure(codec.decode(frameWire(1, Buffer.from([0]))))
    expect(error).toBeInstanceOf(RegistryUnavailableError)
    expect((error as RegistryUnavailableError).code).toBe('WHE_ERR_REGISTRY_UNAVAILABLE')
    expect((error as RegistryUnavailableError).retriable).toBe(true)
  })

  describe('with a failing registry on loopback', () => {
    let server: Server
    let status = 503
    let url: string

    beforeAll(async () => {
      server = createServer((_request, response) => {
        response.writeHead(status, { 'content-type': 'text/plain' }).end('nope')
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })

    it('reports HTTP 5xx as unavailable with the status', async () => {
      status = 503
      const codec = createEventCodec({ registry: createEventRegistry({ url, retries: 0 }) })
      const error = await failure(codec.decode(frameWire(1, Buffer.from([0]))))
      expect(error).toBeInstanceOf(RegistryUnavailableError)
      expect((error as RegistryUnavailableError).status).toBe(503)
    })

    it('does not call a bare 404 (wrong base URL) an unknown schema id', async () => {
      status = 404
      const codec = createEventCodec({ registry: createEventRegistry({ url, retries: 0 }) })
      const error = await failure(codec.decode(frameWire(1, Buffer.from([0]))))
      expect(error).toBeInstanceOf(RegistryUnavailableError)
      expect((error as Error).message).toMatch(/SCHEMA_REGISTRY_URL/)
    })

    it('reports registration against an unavailable registry as unavailable', async () => {
      status = 500
      const codec = createEventCodec({ registry: createEventRegistry({ url }) })
      const error = await failure(codec.encode('fraud', fraudAlertEvent()))
      expect(error).toBeInstanceOf(RegistryUnavailableError)
      expect((error as RegistryUnavailableError).status).toBe(500)
    })
  })
})
