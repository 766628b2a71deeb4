import { describe, expect, it } from 'vitest'
import { classifyAddress, createSsrfPolicy, describeVerdict, parseCidr } from '../../../../services/dispatcher/src/delivery/ssrf.js'

// The expected table, written out independently of the implementation. Order
// matters where blocks overlap: the first listed block containing an address
// is the one it should be reported under. Since the policy follows the IANA
// special-purpose registries (issue 13 item 7), the more specific refused
// entries (0.0.0.0/32, 192.0.0.0/29, …) are listed before their parents, and
// the globally reachable entries inside refused blocks are holes
// (IPV4_REACHABLE, IPV6_REACHABLE).
const IPV4_BLOCKED = [
  '0.0.0.0/32', '192.0.0.0/29', '192.0.0.8/32', '192.0.0.170/32', '192.0.0.171/32', '192.88.99.2/32',
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
  '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '255.255.255.255/32', '240.0.0.0/4'
]
// Blocked outright, whatever follows the prefix.
const IPV6_BLOCKED = [
  '::/128', '::1/128', '::/96', '64:ff9b:1::/48', '100::/64', '100:0:0:1::/64', '2001::/32', '2001:2::/48', '2001:10::/28',
  '2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20', '5f00::/16', 'fc00::/7', 'fe80::/10', 'ff00::/8'
]
// Globally reachable holes in the blocks above; checked first.
const IPV4_REACHABLE = ['192.0.0.9/32', '192.0.0.10/32']
const IPV6_REACHABLE = ['2001:1::1/128', '2001:1::2/128', '2001:1::3/128', '2001:3::/32', '2001:4:112::/48', '2001:20::/28', '2001:30::/28']
// Judged by the IPv4 address in their low 32 bits.
const IPV6_EMBEDDING = ['::ffff:0:0/96', '64:ff9b::/96']

interface Block { base: bigint, prefix: number, bits: number, text: string }

function v4 (text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
}
function fmt4 (value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.')
}
function v6 (text: string): bigint {
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}
/** Uncompressed, so the output never depends on the parser's `::` handling. */
function fmt6 (value: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':')
}
function block (text: string): Block {
  const [address = '', prefix = ''] = text.split('/')
  const bits = address.includes(':') ? 128 : 32
  return { base: bits === 32 ? v4(address) : v6(address), prefix: Number(prefix), bits, text }
}
const inBlock = (b: Block, value: bigint): boolean => value >> BigInt(b.bits - b.prefix) === b.base >> BigInt(b.bits - b.prefix)
const last = (b: Block): bigint => b.base + (1n << BigInt(b.bits - b.prefix)) - 1n

const v4Blocks = IPV4_BLOCKED.map(block)
const v6Blocks = IPV6_BLOCKED.map(block)
const v4Holes = IPV4_REACHABLE.map(block)
const v6Holes = IPV6_REACHABLE.map(block)
const embedding = IPV6_EMBEDDING.map(block)
const globalUnicast = block('2000::/3')

/** The range an address should be refused under, or undefined if it is reachable. */
function expectedV4 (value: bigint): string | undefined {
  if (v4Holes.some((b) => inBlock(b, value))) return undefined
  return v4Blocks.find((b) => inBlock(b, value))?.text
}
function expectedV6 (value: bigint): string | undefined {
  if (embedding.some((b) => inBlock(b, value))) return expectedV4(value & 0xffffffffn)
  if (v6Holes.some((b) => inBlock(b, value))) return undefined
  const hit = v6Blocks.find((b) => inBlock(b, value))
  if (hit !== undefined) return hit.text
  return inBlock(globalUnicast, value) ? undefined : 'outside 2000::/3'
}

function boundaries (b: Block): bigint[] {
  const max = (1n << BigInt(b.bits)) - 1n
  return [b.base - 1n, b.base, last(b), last(b) + 1n].filter((v) => v >= 0n && v <= max)
}

describe('classifyAddress', () => {
  describe('IPv4: both sides of every boundary', () => {
    const cases = [...v4Blocks, ...v4Holes].flatMap((b) => boundaries(b).map((value) => [b.text, fmt4(value), expectedV4(value)] as const))

    it.each(cases)('%s: %s', (_block, address, range) => {
      const verdict = classifyAddress(address)
      expect(verdict.allowed).toBe(range === undefined)
      expect(verdict.range).toBe(range)
    })

    it('reports every listed block from its first to its last address', () => {
      // An edge inside a more specific listed block is reported under that one
      // (the last address of 240.0.0.0/4 is the broadcast address).
      const insideMoreSpecific = (b: Block, value: bigint): boolean => v4Blocks.some((o) => o.prefix > b.prefix && inBlock(o, value))
      for (const b of v4Blocks) {
        if (!insideMoreSpecific(b, b.base)) expect(classifyAddress(fmt4(b.base)).range, b.text).toBe(b.text)
        if (!insideMoreSpecific(b, last(b))) expect(classifyAddress(fmt4(last(b))).range, b.text).toBe(b.text)
      }
    })

    it.each([
      ['9.255.255.255', undefined], ['10.0.0.0', '10.0.0.0/8'], ['11.0.0.0', undefined],
      ['100.63.255.255', undefined], ['100.64.0.0', '100.64.0.0/10'], ['100.127.255.255', '100.64.0.0/10'], ['100.128.0.0', undefined],
      ['169.254.169.254', '169.254.0.0/16'],
      ['172.15.255.255', undefined], ['172.16.0.0', '172.16.0.0/12'], ['172.31.255.255', '172.16.0.0/12'], ['172.32.0.0', undefined],
      ['198.17.255.255', undefined], ['198.19.255.255', '198.18.0.0/15'], ['198.20.0.0', undefined],
      ['223.255.255.255', undefined], ['224.0.0.0', '224.0.0.0/4'], ['239.255.255.255', '224.0.0.0/4'],
      ['240.0.0.0', '240.0.0.0/4'], ['255.255.255.254', '240.0.0.0/4'], ['255.255.255.255', '255.255.255.255/32'],
      ['8.8.8.8', undefined], ['1.1.1.1', undefined], ['93.184.215.14', undefined]
    ])('%s → %s (written out by hand)', (address, range) => {
      const verdict = classifyAddress(address)
      expect(verdict).toEqual(range === undefined ? { allowed: true } : expect.objectContaining({ allowed: false, range }))
    })
  })

  describe('IPv6: both sides of every boundary', () => {
    const cases = [...v6Blocks, ...v6Holes, ...embedding, globalUnicast].flatMap((b) =>
      boundaries(b).map((value) => [b.text, fmt6(value), expectedV6(value)] as const))

    it.each(cases)('%s: %s', (_block, address, range) => {
      const verdict = classifyAddress(address)
      expect(verdict.allowed).toBe(range === undefined)
      expect(verdict.range).toBe(range)
    })

    it.each([
      ['::', '::/128'], ['::1', '::1/128'], ['::2', '::/96'], ['::7f00:1', '::/96'], ['::127.0.0.1', '::/96'],
      ['64:ff9b:1::1', '64:ff9b:1::/48'], ['100::1', '100::/64'], ['100:0:0:1::', '100:0:0:1::/64'], ['100:0:0:2::', 'outside 2000::/3'],
      ['2001::1', '2001::/32'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001::/32'], ['2001:1::1', undefined],
      ['2001:2::1', '2001:2::/48'], ['2001:db8::1', '2001:db8::/32'], ['2001:db9::1', undefined],
      ['2002:7f00:1::', '2002::/16'], ['2002:808:808::1', '2002::/16'], ['3fff::1', '3fff::/20'], ['3fff:1000::1', undefined],
      ['fc00::1', 'fc00::/7'], ['fd00:ec2::254', 'fc00::/7'], ['fe80::1', 'fe80::/10'], ['febf::1', 'fe80::/10'],
      ['fec0::1', 'outside 2000::/3'], ['ff02::1', 'ff00::/8'], ['4000::1', 'outside 2000::/3'], ['5f00::1', '5f00::/16'], ['5f01::1', 'outside 2000::/3'],
      ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'outside 2000::/3'], ['2000::', undefined],
      ['2606:4700:4700::1111', undefined], ['2a00:1450:4001:82b::200e', undefined], ['2001:4860:4860::8888', undefined],
      ['FE80::1', 'fe80::/10'], ['0:0:0:0:0:0:0:1', '::1/128'], ['0000:0000:0000:0000:0000:0000:0000:0001', '::1/128']
    ])('%s → %s (written out by hand)', (address, range) => {
      const verdict = classifyAddress(address)
      expect(verdict.allowed).toBe(range === undefined)
      expect(verdict.range).toBe(range)
    })
  })

  describe('IPv4 embedded in IPv6', () => {
    it.each([
      ['::ffff:127.0.0.1', '127.0.0.0/8'], ['::ffff:7f00:1', '127.0.0.0/8'], ['::ffff:a9fe:a9fe', '169.254.0.0/16'],
      ['::ffff:169.254.169.254', '169.254.0.0/16'], ['::ffff:10.0.0.1', '10.0.0.0/8'], ['::ffff:0.0.0.0', '0.0.0.0/32'], ['::ffff:0.0.0.1', '0.0.0.0/8'],
      ['::ffff:255.255.255.255', '255.255.255.255/32'], ['::FFFF:C0A8:0101', '192.168.0.0/16'],
      ['0:0:0:0:0:ffff:127.0.0.1', '127.0.0.0/8'],
      ['64:ff9b::127.0.0.1', '127.0.0.0/8'], ['64:ff9b::a9fe:a9fe', '169.254.0.0/16'], ['64:ff9b::a00:1', '10.0.0.0/8'],
      ['64:ff9b::100.64.0.1', '100.64.0.0/10']
    ])('IPv4-mapped and NAT64 addresses are judged by their IPv4 address: %s → %s', (address, range) => {
      const verdict = classifyAddress(address)
      expect(verdict).toMatchObject({ allowed: false, range })
      expect(verdict.label).toMatch(/via (IPv4-mapped|NAT64 well-known prefix)/)
    })

    it.each(['::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '64:ff9b::5db8:d70e'])('%s carries a public IPv4 address and is reachable', (address) => {
      expect(classifyAddress(address)).toEqual({ allowed: true })
    })

    it.each(['2002:808:808::', '::8.8.8.8', '64:ff9b:1::808:808', '2001:0:4136:e378:8000:63bf:3fff:fdd2'])(
      'deprecated or local transition forms are refused even with a public IPv4 inside: %s', (address) => {
        expect(classifyAddress(address).allowed).toBe(false)
      })
  })

  it.each([
    '', 'localhost', 'example.com', '2130706433', '0177.0.0.1', '0x7f.0.0.1', '127.1', '127.0.0.1.', '127.0.0.01',
    '256.0.0.1', '1.2.3.4.5', ' 8.8.8.8', '[::1]', 'fe80::1%eth0', '2001:4860::8888%1', ':::1', '1::2::3', 'g::1'
  ])('refuses anything that is not a plain address, failing closed: %j', (input) => {
    expect(classifyAddress(input)).toMatchObject({ allowed: false, range: 'invalid' })
  })

  describe('with an allow-list', () => {
    const policy = createSsrfPolicy({ allowCidrs: ['127.0.0.0/8', '::1/128', '10.1.0.0/16', 'fd00:1::/32'] })

    it.each([
      ['127.0.0.1', '127.0.0.0/8'], ['127.255.255.255', '127.0.0.0/8'], ['::1', '::1/128'], ['10.1.2.3', '10.1.0.0/16'],
      ['::ffff:127.0.0.1', '127.0.0.0/8'], ['64:ff9b::7f00:1', '127.0.0.0/8'], ['fd00:1:ffff::1', 'fd00:1::/32']
    ])('opens %s (allowed by %s) and still names its range', (address, allowedBy) => {
      const verdict = classifyAddress(address, policy)
      expect(verdict.allowed).toBe(true)
      expect(verdict.allowedBy).toBe(allowedBy)
      expect(verdict.range).toBeDefined()
    })

    it.each([
      ['10.0.0.1', '10.0.0.0/8'], ['10.2.0.0', '10.0.0.0/8'], ['169.254.169.254', '169.254.0.0/16'], ['::2', '::/96'],
      ['fd00:2::1', 'fc00::/7'], ['::ffff:a9fe:a9fe', '169.254.0.0/16'], ['0.0.0.0', '0.0.0.0/32'], ['0.0.0.1', '0.0.0.0/8']
    ])('leaves everything else closed: %s', (address, range) => {
      expect(classifyAddress(address, policy)).toMatchObject({ allowed: false, range })
    })

    it('opens nothing by default', () => {
      expect(classifyAddress('127.0.0.1', createSsrfPolicy()).allowed).toBe(false)
      expect(classifyAddress('127.0.0.1').allowed).toBe(false)
    })
  })

  it('describes a verdict in one line', () => {
    expect(describeVerdict('10.0.0.1', classifyAddress('10.0.0.1'))).toBe('10.0.0.1 is in 10.0.0.0/8 (private (RFC 1918))')
    expect(describeVerdict('::ffff:a9fe:a9fe', classifyAddress('::ffff:a9fe:a9fe')))
      .toBe('::ffff:a9fe:a9fe is in 169.254.0.0/16 (link-local (cloud metadata), via IPv4-mapped ::ffff:0:0/96)')
    const policy = createSsrfPolicy({ allowCidrs: ['127.0.0.1'] })
    expect(describeVerdict('127.0.0.1', classifyAddress('127.0.0.1', policy))).toBe('127.0.0.1 is in 127.0.0.0/8 (loopback), allowed by 127.0.0.1/32')
    expect(describeVerdict('8.8.8.8', classifyAddress('8.8.8.8'))).toBe('8.8.8.8 is a public address')
  })
})

describe('parseCidr and createSsrfPolicy', () => {
  it.each([
    ['127.0.0.0/8', '127.0.0.0/8', 4], [' 10.0.0.0/8 ', '10.0.0.0/8', 4], ['127.0.0.1', '127.0.0.1/32', 4], ['0.0.0.0/0', '0.0.0.0/0', 4],
    ['::1', '::1/128', 6], ['::1/128', '::1/128', 6], ['FD00:0::/8', 'fd00::/8', 6], ['::ffff:127.0.0.0/104', '::ffff:7f00:0/104', 6],
    ['2001:db8:0:0:1:0:0:0/80', '2001:db8:0:0:1::/80', 6], ['::/0', '::/0', 6]
  ])('parses %j as %s', (input, text, family) => {
    expect(parseCidr(input)).toMatchObject({ text, family })
  })

  it.each([
    ['10.0.0.1/8', /host bits set; did you mean 10\.0\.0\.0\/8\?/],
    ['fd00::1/8', /did you mean fd00::\/8\?/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['::/129', /prefix length must be 0-128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['localhost/8', /not an IPv4 or IPv6 address/],
    ['127.1/8', /not an IPv4 or IPv6 address/],
    ['fe80::%eth0/64', /not an IPv4 or IPv6 address/],
    ['', /not an IPv4 or IPv6 address/]
  ])('refuses %j with a message saying why', (input, message) => {
    expect(() => parseCidr(input)).toThrow(RangeError)
    expect(() => parseCidr(input)).toThrow(message)
  })

  it('validates the whole allow-list up front and freezes the policy', () => {
    expect(() => createSsrfPolicy({ allowCidrs: ['127.0.0.0/8', 'nope'] })).toThrow(/"nope" is not a CIDR block/)
    const policy = createSsrfPolicy({ allowCidrs: ['127.0.0.0/8'], allowHttp: true })
    expect(policy.allowHttp).toBe(true)
    expect(policy.allow.map((c) => c.text)).toEqual(['127.0.0.0/8'])
    expect(Object.isFrozen(policy)).toBe(true)
    expect(Object.isFrozen(policy.allow)).toBe(true)
    expect(createSsrfPolicy()).toMatchObject({ allowHttp: false, allow: [] })
  })
})
