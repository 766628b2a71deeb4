// Known SSRF bypass spellings, each pushed through both layers: the endpoint
// URL check (create/update) and the connect-time guard (every connection).
// No socket is ever opened: undici's connector is replaced by an emulation of
// what Node's `net.connect` does with a host (an IP literal is dialled
// directly, a name goes through the `lookup` hook), and names resolve only
// through a resolver this test controls.
import type { LookupAddress } from 'node:dns'
import { isIP, type LookupFunction, type Socket } from 'node:net'
import type { buildConnector } from 'undici'
import { describe, expect, it } from 'vitest'
import { classifyTransportError } from '../../../../services/dispatcher/src/delivery/http-deliverer.js'
import {
  checkEndpointUrl,
  createSsrfConnector,
  createSsrfPolicy,
  SSRF_BLOCKED,
  URL_INVALID,
  type SsrfResolver
} from '../../../../services/dispatcher/src/delivery/ssrf.js'

// http is allowed so that the scheme is never the reason a URL is refused.
const policy = createSsrfPolicy({ allowHttp: true })

/** What the test's DNS answers; names not listed do not exist. */
const DNS: Record<string, readonly string[]> = {
  'internal.test': ['10.0.0.5'],
  'metadata.test': ['169.254.169.254'],
  'alibaba-metadata.test': ['100.100.100.200'],
  'aws-metadata-v6.test': ['fd00:ec2::254'],
  'loopback.test': ['127.0.0.1'],
  'loopback6.test': ['::1'],
  'zero.test': ['0.0.0.0'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'nat64.test': ['64:ff9b::a9fe:a9fe'],
  'linklocal6.test': ['fe80::1'],
  'public-then-private.test': ['93.184.215.14', '10.1.2.3'],
  'public6-then-ula.test': ['2606:4700:4700::1111', 'fd12:3456::1'],
  'private-then-public.test': ['192.168.0.10', '93.184.215.14'],
  'trailing-dot.test.': ['127.0.0.1'],
  'garbage.test': ['not-an-address'],
  localhost: ['127.0.0.1', '::1'],
  'localhost.': ['127.0.0.1'],
  'api.localhost': ['127.0.0.1'],
  // Controls: public answers the guard must let through.
  'public.test': ['93.184.215.14', '2606:4700:4700::1111']
}

type Stage = 'blocked' | 'invalid' | 'ok'

/** [url, what the URL check says]; the connect-time guard must refuse every one that parses. */
const CORPUS: ReadonlyArray<readonly [string, Exclude<Stage, 'ok'> | 'ok (name)']> = [
  // Alternative IPv4 spellings, normalised by the WHATWG URL parser.
  ['http://2130706433/', 'blocked'],
  ['http://0177.0.0.1/', 'blocked'],
  ['http://017700000001/', 'blocked'],
  ['http://0x7f000001/', 'blocked'],
  ['http://0x7f.0.0.1/', 'blocked'],
  ['http://0X7F.0.0.1/', 'blocked'],
  ['http://0x7f.0x0.0x0.0x1/', 'blocked'],
  ['http://127.1/', 'blocked'],
  ['http://127.0.1/', 'blocked'],
  ['http://127.000.000.001/', 'blocked'],
  ['http://00000000000000000177.1/', 'blocked'],
  ['http://127.0.0.1./', 'blocked'],
  ['http://%31%32%37.0.0.1/', 'blocked'],
  ['http://１２７.０.０.１/', 'blocked'],
  ['http://127。0。0。1/', 'blocked'],
  ['http://①②⑦.⓪.⓪.①/', 'blocked'],
  ['http:\\\\127.0.0.1\\', 'blocked'],
  ['http:/127.0.0.1/', 'blocked'],
  ['http://127.0.0.1#@evil.example/', 'blocked'],
  ['http://0.0.0.0/', 'blocked'],
  ['http://0/', 'blocked'],
  ['http://4294967295/', 'blocked'],
  ['https://127.0.0.1:443/', 'blocked'],
  // Special-purpose IPv4 ranges.
  ['http://169.254.169.254/latest/meta-data/', 'blocked'],
  ['http://0xa9fea9fe/', 'blocked'],
  ['http://100.64.0.1/', 'blocked'],
  ['http://100.100.100.200/', 'blocked'],
  ['http://192.168.1.1/', 'blocked'],
  ['http://10.0.0.1/', 'blocked'],
  ['http://172.16.0.1/', 'blocked'],
  ['http://172.31.255.255/', 'blocked'],
  ['http://198.18.0.1/', 'blocked'],
  ['http://192.0.0.170/', 'blocked'],
  ['http://192.0.2.1/', 'blocked'],
  ['http://192.88.99.1/', 'blocked'],
  ['http://198.51.100.1/', 'blocked'],
  ['http://203.0.113.1/', 'blocked'],
  ['http://224.0.0.1/', 'blocked'],
  ['http://240.0.0.1/', 'blocked'],
  ['http://255.255.255.255/', 'blocked'],
  // IPv6 and IPv4-in-IPv6 forms.
  ['http://[::]/', 'blocked'],
  ['http://[::1]/', 'blocked'],
  ['http://[0000::1]/', 'blocked'],
  ['http://[0:0:0:0:0:0:0:1]/', 'blocked'],
  ['http://[::ffff:127.0.0.1]/', 'blocked'],
  ['http://[::ffff:7f00:1]/', 'blocked'],
  ['http://[0:0:0:0:0:FFFF:7F00:0001]/', 'blocked'],
  ['http://[::ffff:169.254.169.254]/', 'blocked'],
  ['http://[::FFFF:A9FE:A9FE]/', 'blocked'],
  ['http://[::ffff:0:127.0.0.1]/', 'blocked'],
  ['http://[64:ff9b::127.0.0.1]/', 'blocked'],
  ['http://[64:ff9b::a9fe:a9fe]/', 'blocked'],
  ['http://[64:ff9b:1::a00:1]/', 'blocked'],
  ['http://[::127.0.0.1]/', 'blocked'],
  ['http://[fe80::1]/', 'blocked'],
  ['http://[FE80::A9FE:A9FE]/', 'blocked'],
  ['http://[fc00::1]/', 'blocked'],
  ['http://[fd00:ec2::254]/', 'blocked'],
  ['http://[fec0::1]/', 'blocked'],
  ['http://[ff02::1]/', 'blocked'],
  ['http://[100::1]/', 'blocked'],
  ['http://[2001:db8::1]/', 'blocked'],
  ['http://[2002:7f00:1::]/', 'blocked'],
  ['http://[2002:a9fe:a9fe::1]/', 'blocked'],
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'blocked'],
  ['http://[2001:0000:4136:e378:8000:63bf:80ff:fffe]/', 'blocked'],
  // localhost names, refused by name and by address.
  ['http://localhost/', 'blocked'],
  ['http://LOCALHOST/', 'blocked'],
  ['http://localhost./', 'blocked'],
  ['http://api.localhost/', 'blocked'],
  ['http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/', 'blocked'],
  // Not URLs the parser accepts at all.
  ['http://[fe80::1%25eth0]/', 'invalid'],
  ['http://[::ffff:127.0.0.1%25lo]/', 'invalid'],
  ['http://127.0.0.1%09/', 'invalid'],
  ['http://0x7f.0.0.0.1/', 'invalid'],
  ['http://4294967296/', 'invalid'],
  // Credentials in the URL: invalid at the URL check, still refused at connect.
  ['http://example.com@127.0.0.1/', 'invalid'],
  ['http://user:pass@169.254.169.254/', 'invalid'],
  // Names: only the connect-time guard can judge them.
  ['http://internal.test/', 'ok (name)'],
  ['http://metadata.test/', 'ok (name)'],
  ['http://alibaba-metadata.test/', 'ok (name)'],
  ['http://aws-metadata-v6.test/', 'ok (name)'],
  ['http://loopback.test/', 'ok (name)'],
  ['http://LOOPBACK.test/', 'ok (name)'],
  ['http://loopback6.test/', 'ok (name)'],
  ['http://zero.test/', 'ok (name)'],
  ['http://mapped.test/', 'ok (name)'],
  ['http://nat64.test/', 'ok (name)'],
  ['http://linklocal6.test/', 'ok (name)'],
  ['http://public-then-private.test/', 'ok (name)'],
  ['http://public6-then-ula.test/', 'ok (name)'],
  ['http://private-then-public.test/', 'ok (name)'],
  ['http://trailing-dot.test./', 'ok (name)'],
  ['http://garbage.test/', 'ok (name)']
]

/** What happened when the guarded connector was asked to connect. */
interface Attempt {
  error: Error | null
  /** Addresses a socket would have been opened to. */
  dialled: string[]
  /** Names the resolver was asked for. */
  resolved: string[]
}

/**
 * Emulates undici's connector over Node's `net.connect`: a literal host is
 * dialled with no lookup (as Node does), a name is resolved through the
 * `lookup` option with `all: true` (as happy-eyeballs connects do) and every
 * address returned would be dialled. Nothing is opened; the dial is recorded.
 */
function emulatedUndici (dialled: string[]): (options: buildConnector.BuildOptions) => buildConnector.connector {
  return (options) => (target, callback) => {
    if (isIP(target.hostname) !== 0) {
      dialled.push(target.hostname)
      callback(null, {} as Socket)
      return
    }
    const lookup = (options as { lookup: LookupFunction }).lookup
    lookup(target.hostname, { all: true, family: 0 }, (err, addresses) => {
      if (err !== null) return callback(err, null)
      dialled.push(...(addresses as LookupAddress[]).map((a) => a.address))
      callback(null, {} as Socket)
    })
  }
}

function connect (url: string): Promise<Attempt> {
  const dialled: string[] = []
  const resolved: string[] = []
  const resolve: SsrfResolver = async (hostname) => {
    resolved.push(hostname)
    const answer = DNS[hostname]
    if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return answer.map((address) => ({ address, family: isIP(address) }))
  }
  const connector = createSsrfConnector(policy, { timeout: 1_000 }, { resolve, buildConnector: emulatedUndici(dialled) })
  const { hostname, protocol, port, host } = new URL(url)
  // undici strips the brackets of an IPv6 host before calling its connector.
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  return new Promise((done) => connector({ hostname: bare, host, protocol, port }, (error, _socket) => done({ error, dialled, resolved })))
}

describe('SSRF bypass corpus', () => {
  it('holds at least 40 bypass attempts', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40)
    expect(new Set(CORPUS.map(([url]) => url)).size).toBe(CORPUS.length)
  })

  it.each(CORPUS)('%s is refused (URL check: %s)', async (url, atUrlCheck) => {
    const check = checkEndpointUrl(url, policy)
    if (atUrlCheck === 'ok (name)') expect(check).toMatchObject({ ok: true })
    else expect(check).toMatchObject({ ok: false, code: atUrlCheck === 'blocked' ? SSRF_BLOCKED : URL_INVALID })

    if (!URL.canParse(url)) {
      expect(atUrlCheck).toBe('invalid')
      return
    }
    const attempt = await connect(url)
    expect(attempt.error?.message).toMatch(/^refusing to connect/)
    expect(classifyTransportError(attempt.error)).toBe('ssrf-blocked')
    expect(attempt.dialled).toEqual([])
    // Literals are judged without asking DNS; names are resolved exactly once.
    const { hostname } = new URL(url)
    expect(attempt.resolved).toEqual(isIP(hostname.replace(/^\[|\]$/g, '')) === 0 ? [hostname] : [])
  })

  it.each([
    ['https://93.184.215.14/', ['93.184.215.14']],
    ['https://[2606:4700:4700::1111]/', ['2606:4700:4700::1111']],
    ['https://[::ffff:808:808]/', ['::ffff:808:808']],
    ['https://[64:ff9b::808:808]/', ['64:ff9b::808:808']],
    ['https://public.test/', ['93.184.215.14', '2606:4700:4700::1111']]
  ])('lets a public destination through both layers (control): %s', async (url, dialled) => {
    expect(checkEndpointUrl(url, policy)).toMatchObject({ ok: true })
    expect(await connect(url)).toMatchObject({ error: null, dialled })
  })

  it('reports a name that does not exist as dns, not as blocked', async () => {
    const attempt = await connect('https://nowhere.test/')
    expect(classifyTransportError(attempt.error)).toBe('dns')
    expect(attempt.dialled).toEqual([])
  })
})
