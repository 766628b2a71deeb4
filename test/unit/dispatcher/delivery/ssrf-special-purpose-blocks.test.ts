// The SSRF policy against its own data: every block of the IANA IPv4 and IPv6
// special-purpose registries (special-purpose-blocks.ts) that is not globally
// reachable is refused from its first to its last address, every globally
// reachable one is allowed, and SSRF_ALLOW_CIDRS opens any of them.
import { describe, expect, it } from 'vitest'
import { checkEndpointUrl, classifyAddress, createSsrfPolicy, parseCidr } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import {
  IPV4_SPECIAL_PURPOSE_BLOCKS,
  IPV6_SPECIAL_PURPOSE_BLOCKS,
  type SpecialPurposeBlock
} from '../../../../services/dispatcher/src/delivery/ssrf/special-purpose-blocks.js'

const all = [...IPV4_SPECIAL_PURPOSE_BLOCKS, ...IPV6_SPECIAL_PURPOSE_BLOCKS]

function fmt (family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.')
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':')
}
function edges (block: SpecialPurposeBlock): [string, string] {
  const { family, base, prefix } = parseCidr(block.cidr)
  const size = 1n << BigInt((family === 4 ? 32 : 128) - prefix)
  return [fmt(family, base), fmt(family, base + size - 1n)]
}

const refused = all.filter((b) => b.globallyReachable !== true && b.embedsIPv4 !== true)
const reachable = all.filter((b) => b.globallyReachable === true && b.embedsIPv4 !== true)

describe('the special-purpose table', () => {
  it('gives every entry a canonical CIDR, a name and its RFC, once', () => {
    for (const block of all) {
      expect(parseCidr(block.cidr).text, block.cidr).toBe(block.cidr)
      expect(block.name, block.cidr).not.toBe('')
      expect(block.rfc, block.cidr).toMatch(/^RFC \d+(, RFC \d+)*$/)
    }
    expect(new Set(all.map((b) => b.cidr)).size).toBe(all.length)
  })

  it('holds the registries\' entries the issue names, with their "Globally Reachable" value', () => {
    const reach = (cidr: string): unknown => all.find((b) => b.cidr === cidr)?.globallyReachable
    expect(reach('2001:10::/28')).toBe('N/A') // deprecated ORCHID
    expect(reach('2001:20::/28')).toBe(true) // ORCHIDv2
    expect(reach('2001::/23')).toBe(false)
    expect(reach('192.88.99.0/24')).toBe('N/A')
    for (const cidr of ['192.31.196.0/24', '192.52.193.0/24', '192.175.48.0/24', '2001:1::1/128', '2001:3::/32', '2001:4:112::/48', '2620:4f:8000::/48']) {
      expect(reach(cidr), cidr).toBe(true)
    }
  })
})

describe('classifyAddress against the table', () => {
  it.each(refused.map((b) => [b.cidr, b.name] as const))('refuses the first and last address of %s (%s)', (cidr) => {
    for (const address of edges(refused.find((b) => b.cidr === cidr) as SpecialPurposeBlock)) {
      expect(classifyAddress(address).allowed, address).toBe(false)
    }
  })

  it.each(reachable.map((b) => [b.cidr, b.name] as const))('allows the first and last address of globally reachable %s (%s)', (cidr) => {
    for (const address of edges(reachable.find((b) => b.cidr === cidr) as SpecialPurposeBlock)) {
      expect(classifyAddress(address), address).toEqual({ allowed: true })
    }
  })

  it('judges IPv4-mapped and NAT64 addresses by the IPv4 address they carry', () => {
    for (const block of all.filter((b) => b.embedsIPv4 === true)) {
      const [first, last] = edges(block)
      expect(classifyAddress(first).allowed, first).toBe(false)
      expect(classifyAddress(last).allowed, last).toBe(false)
    }
    expect(classifyAddress('::ffff:192.31.196.1')).toEqual({ allowed: true })
    expect(classifyAddress('64:ff9b::192.0.0.8').allowed).toBe(false)
  })

  it.each(refused.map((b) => [b.cidr] as const))('SSRF_ALLOW_CIDRS=%s opens that block', (cidr) => {
    const policy = createSsrfPolicy({ allowCidrs: [cidr] })
    for (const address of edges(refused.find((b) => b.cidr === cidr) as SpecialPurposeBlock)) {
      expect(classifyAddress(address, policy), address).toMatchObject({ allowed: true, allowedBy: cidr })
    }
  })

  it.each([
    ['https://[2001:10::1]/', false], ['https://[2001:1f:ffff:ffff:ffff:ffff:ffff:ffff]/', false],
    ['https://[2001:20::1]/', true], ['https://[2001:4:112::1]/', true], ['https://[2001:1::1]/', true],
    ['https://[2001:1::4]/', false], ['https://[5f00::1]/', false], ['https://[2620:4f:8000::53]/', true],
    ['https://192.0.0.9/', true], ['https://192.0.0.8/', false], ['https://192.88.99.2/', false]
  ])('an endpoint URL %s is accepted: %s', (url, accepted) => {
    expect(checkEndpointUrl(url, createSsrfPolicy()).ok).toBe(accepted)
  })
})
