import type { LookupAddress } from 'node:dns'
import type { LookupFunction, Socket } from 'node:net'
import type { buildConnector } from 'undici'
import { describe, expect, it, vi } from 'vitest'
import { classifyTransportError } from '../../../../services/dispatcher/src/delivery/http-deliverer.js'
import {
  createSsrfConnector,
  createSsrfLookup,
  createSsrfPolicy,
  ssrfBlocked,
  type SsrfResolver
} from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { SsrfBlockedError } from '../../../../services/dispatcher/src/errors.js'

const strict = createSsrfPolicy()
const loopbackAllowed = createSsrfPolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] })

/** A resolver the test controls: fixed answers per name, every call recorded. */
function resolverOf (answers: Record<string, readonly string[]>): SsrfResolver & { calls: string[] } {
  const calls: string[] = []
  const resolve = async (hostname: string): Promise<Array<{ address: string, family: number }>> => {
    calls.push(hostname)
    const answer = answers[hostname]
    if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(resolve, { calls })
}

type LookupResult = { err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family: number | undefined }

function lookupWith (lookup: LookupFunction, hostname: string, options: Parameters<LookupFunction>[1]): Promise<LookupResult> {
  return new Promise((resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })))
}

describe('createSsrfLookup', () => {
  it('hands Node every approved address when asked for all, with the family read from the address', async () => {
    const resolve: SsrfResolver = async () => [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 4 }]
    const result = await lookupWith(createSsrfLookup(strict, { resolve }), 'example.test', { all: true })
    expect(result.err).toBeNull()
    expect(result.address).toEqual([{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }])
  })

  it('hands Node the first address when not asked for all', async () => {
    const resolve = resolverOf({ 'example.test': ['2606:4700:4700::1111', '1.1.1.1'] })
    const result = await lookupWith(createSsrfLookup(strict, { resolve }), 'example.test', {})
    expect(result).toEqual({ err: null, address: '2606:4700:4700::1111', family: 6 })
  })

  it('honours options.family, and says ENOTFOUND when that family has no address', async () => {
    const resolve = resolverOf({ 'example.test': ['2606:4700:4700::1111', '1.1.1.1'] })
    const lookup = createSsrfLookup(strict, { resolve })
    expect(await lookupWith(lookup, 'example.test', { family: 4, all: true })).toMatchObject({ err: null, address: [{ address: '1.1.1.1', family: 4 }] })
    expect(await lookupWith(lookup, 'example.test', { family: 6 })).toMatchObject({ err: null, address: '2606:4700:4700::1111', family: 6 })
    const v4only = createSsrfLookup(strict, { resolve: resolverOf({ 'v4.test': ['1.1.1.1'] }) })
    const missing = await lookupWith(v4only, 'v4.test', { family: 6 })
    expect(missing.err?.code).toBe('ENOTFOUND')
    expect(missing.err?.message).toBe('v4.test has no IPv6 address')
    const empty = await lookupWith(createSsrfLookup(strict, { resolve: async () => [] }), 'none.test', { all: true })
    expect(empty.err?.code).toBe('ENOTFOUND')
    expect(classifyTransportError(empty.err)).toBe('dns')
  })

  it('passes family and hints to the resolver', async () => {
    const resolve = vi.fn<SsrfResolver>(async () => [{ address: '1.1.1.1', family: 4 }])
    await lookupWith(createSsrfLookup(strict, { resolve }), 'example.test', { family: 4, hints: 32, all: true })
    await lookupWith(createSsrfLookup(strict, { resolve }), 'example.test', { family: 'IPv6' as unknown as number })
    expect(resolve.mock.calls).toEqual([['example.test', { family: 4, hints: 32 }], ['example.test', { family: 6 }]])
  })

  it('refuses the connection when any resolved address is blocked, even one Node would not try first', async () => {
    const resolve = resolverOf({ 'mixed.test': ['93.184.215.14', '2606:4700:4700::1111', '10.1.2.3'] })
    const result = await lookupWith(createSsrfLookup(strict, { resolve }), 'mixed.test', { all: true })
    expect(result.err).toBeInstanceOf(SsrfBlockedError)
    expect(result.err).toMatchObject({ code: 'WHD_ERR_SSRF_BLOCKED', hostname: 'mixed.test', address: '10.1.2.3', range: '10.0.0.0/8', retriable: false })
    expect(result.err?.message).toBe('refusing to connect to mixed.test: 10.1.2.3 is in 10.0.0.0/8 (private (RFC 1918))')
    expect(result.address).toEqual([])
    // A blocked address of the family not asked for still refuses the name.
    const v4 = await lookupWith(createSsrfLookup(strict, { resolve: resolverOf({ 'm.test': ['1.1.1.1', 'fd00::1'] }) }), 'm.test', { family: 4 })
    expect(v4.err?.code).toBe('WHD_ERR_SSRF_BLOCKED')
    expect(v4.address).toBe('')
  })

  it('fails closed on an answer that is not an IP address', async () => {
    const resolve: SsrfResolver = async () => [{ address: 'not-an-ip', family: 4 }]
    const result = await lookupWith(createSsrfLookup(strict, { resolve }), 'odd.test', { all: true })
    expect(result.err).toMatchObject({ code: 'WHD_ERR_SSRF_BLOCKED', range: 'invalid' })
  })

  it('passes resolver failures through with their code, and wraps throws and non-errors', async () => {
    const notFound = await lookupWith(createSsrfLookup(strict, { resolve: resolverOf({}) }), 'nowhere.test', { all: true })
    expect(notFound.err?.code).toBe('ENOTFOUND')
    expect(classifyTransportError(notFound.err)).toBe('dns')
    const thrown = await lookupWith(createSsrfLookup(strict, { resolve: () => { throw new Error('sync boom') } }), 'x.test', {})
    expect(thrown.err?.message).toBe('sync boom')
    const odd = await lookupWith(createSsrfLookup(strict, { resolve: () => Promise.reject('text' as unknown) }), 'x.test', {})
    expect(odd.err?.message).toBe('resolving x.test failed: text')
  })

  it('calls back asynchronously, exactly once', async () => {
    const resolve = resolverOf({ 'a.test': ['1.1.1.1'] })
    const callback = vi.fn()
    createSsrfLookup(strict, { resolve })('a.test', { all: true }, callback)
    expect(callback).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(callback).toHaveBeenCalledOnce())
  })

  it('resolves again on every lookup, so an earlier answer decides nothing (DNS rebinding)', async () => {
    let calls = 0
    const resolve: SsrfResolver = async () => [{ address: calls++ === 0 ? '93.184.215.14' : '127.0.0.1', family: 4 }]
    const lookup = createSsrfLookup(strict, { resolve })
    expect((await lookupWith(lookup, 'rebind.test', { all: true })).err).toBeNull()
    expect((await lookupWith(lookup, 'rebind.test', { all: true })).err).toMatchObject({ code: 'WHD_ERR_SSRF_BLOCKED', address: '127.0.0.1' })
    expect(calls).toBe(2)
  })

  it('uses the system resolver by default (resolving only: localhost comes from the hosts file)', async () => {
    const blocked = await lookupWith(createSsrfLookup(strict), 'localhost', { all: true })
    expect(blocked.err).toMatchObject({ code: 'WHD_ERR_SSRF_BLOCKED', hostname: 'localhost' })
    const allowed = await lookupWith(createSsrfLookup(loopbackAllowed), 'localhost', { all: true })
    expect(allowed.err).toBeNull()
    for (const { address } of allowed.address as LookupAddress[]) expect(['127.0.0.1', '::1']).toContain(address)
  })
})

/**
 * A stand-in for undici's `buildConnector` that never opens a socket: it
 * records the options it was built with and the targets it was asked to dial.
 */
function recordingBuilder (): { build: (options: buildConnector.BuildOptions) => buildConnector.connector, built: buildConnector.BuildOptions[], dialled: buildConnector.Options[] } {
  const built: buildConnector.BuildOptions[] = []
  const dialled: buildConnector.Options[] = []
  const build = (options: buildConnector.BuildOptions): buildConnector.connector => {
    built.push(options)
    return (target, callback) => {
      dialled.push(target)
      callback(null, {} as Socket)
    }
  }
  return { build, built, dialled }
}

function connectWith (connector: buildConnector.connector, target: buildConnector.Options): Promise<Error | null> {
  return new Promise((resolve) => connector(target, (err, _socket) => resolve(err)))
}

describe('createSsrfConnector', () => {
  const target = (hostname: string): buildConnector.Options => ({ hostname, host: hostname, protocol: 'https:', port: '443' })

  it('builds undici\'s connector with the caller\'s options and the guarded lookup', () => {
    const { build, built } = recordingBuilder()
    createSsrfConnector(strict, { timeout: 1234, ca: 'CA' }, { buildConnector: build })
    expect(built).toHaveLength(1)
    expect(built[0]).toMatchObject({ timeout: 1234, ca: 'CA' })
    expect(typeof (built[0] as { lookup?: unknown }).lookup).toBe('function')
  })

  it.each(['127.0.0.1', '::1', '[::1]', '169.254.169.254', '::ffff:a9fe:a9fe', '0.0.0.0', '::', 'fe80::1%eth0', '224.0.0.1'])(
    'refuses the IP literal %s before any socket exists, without resolving', async (hostname) => {
      const { build, dialled } = recordingBuilder()
      const resolve = resolverOf({})
      const err = await connectWith(createSsrfConnector(strict, {}, { resolve, buildConnector: build }), target(hostname))
      expect(err).toBeInstanceOf(SsrfBlockedError)
      expect(classifyTransportError(err)).toBe('ssrf-blocked')
      expect(dialled).toEqual([])
      expect(resolve.calls).toEqual([])
    })

  it('calls back asynchronously when it refuses, like undici\'s own connector', async () => {
    const { build } = recordingBuilder()
    const callback = vi.fn()
    createSsrfConnector(strict, {}, { buildConnector: build })(target('127.0.0.1'), callback)
    expect(callback).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(callback).toHaveBeenCalledOnce())
  })

  it('hands allowed literals and every host name to undici\'s connector unchanged', async () => {
    const { build, dialled } = recordingBuilder()
    const connector = createSsrfConnector(loopbackAllowed, {}, { buildConnector: build })
    for (const hostname of ['93.184.215.14', '2606:4700:4700::1111', '127.0.0.1', '::1', 'hooks.example.test']) {
      expect(await connectWith(connector, target(hostname)), hostname).toBeNull()
    }
    expect(dialled.map((t) => t.hostname)).toEqual(['93.184.215.14', '2606:4700:4700::1111', '127.0.0.1', '::1', 'hooks.example.test'])
  })

  it('refuses options that would get past the guard', () => {
    const lookup: LookupFunction = () => {}
    expect(() => createSsrfConnector(strict, { lookup })).toThrow(/pass a resolver as options.resolve/)
    expect(() => createSsrfConnector(strict, { socketPath: '/tmp/x.sock' })).toThrow(/socketPath bypasses/)
  })
})

describe('SsrfBlockedError', () => {
  it('is a dispatcher error with a stable code, the refused address and range', () => {
    const err = ssrfBlocked('169.254.169.254', '169.254.169.254', { allowed: false, range: '169.254.0.0/16', label: 'link-local (cloud metadata)' })
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ name: 'SsrfBlockedError', code: 'WHD_ERR_SSRF_BLOCKED', retriable: false, range: '169.254.0.0/16' })
    expect(err.message).toBe('refusing to connect: 169.254.169.254 is in 169.254.0.0/16 (link-local (cloud metadata))')
    expect(classifyTransportError(new Error('connect failed', { cause: err }))).toBe('ssrf-blocked')
  })
})
