// Which IP addresses a webhook may be sent to (DESIGN §6): the IANA
// special-purpose registries (special-purpose-blocks.ts), with an operator
// allow-list on top. Everything here
// is synchronous and does no I/O; the connect-time guard and the endpoint URL
// check both ask `classifyAddress`.
import { isIPv4, isIPv6 } from 'node:net'
import { IPV4_SPECIAL_PURPOSE_BLOCKS, IPV6_GLOBAL_UNICAST, IPV6_SPECIAL_PURPOSE_BLOCKS, type SpecialPurposeBlock } from './special-purpose-blocks.js'

/** A parsed CIDR block, e.g. from the allow-list. */
export interface Cidr {
  family: 4 | 6
  /** The network address as an unsigned integer (32 or 128 bits). */
  base: bigint
  prefix: number
  /** Canonical text, e.g. `127.0.0.0/8`. */
  text: string
}

export interface SsrfPolicyOptions {
  /**
   * CIDR blocks (or single addresses) that are reachable even though a
   * special-purpose range contains them, for development and tests, e.g.
   * `['127.0.0.0/8', '::1/128']`. Public addresses need no entry.
   * @defaultValue []
   */
  allowCidrs?: Iterable<string>
  /** Accept `http:` endpoint URLs as well as `https:`. @defaultValue false */
  allowHttp?: boolean
}

/** A compiled, frozen policy; build it once with {@link createSsrfPolicy}. */
export interface SsrfPolicy {
  readonly allowHttp: boolean
  /** The allow-list, parsed. */
  readonly allow: readonly Cidr[]
}

/** What the policy says about one address. */
export interface AddressVerdict {
  allowed: boolean
  /**
   * The special-purpose range the address falls in, e.g. `169.254.0.0/16`
   * (for IPv4 embedded in IPv6, the IPv4 range); absent for an ordinary
   * public address. Present with `allowed: true` when the allow-list opened it.
   */
  range?: string
  /** What that range is, e.g. `link-local (cloud metadata)`. */
  label?: string
  /** The allow-list entry that let a special-purpose address through. */
  allowedBy?: string
}

interface Range extends Cidr {
  block: SpecialPurposeBlock
}

const V4_BITS = 32
const V6_BITS = 128

function range (block: SpecialPurposeBlock): Range {
  const cidr = parseCidr(block.cidr)
  if (cidr.text !== block.cidr) throw new Error(`special-purpose block ${block.cidr} is not canonical (${cidr.text})`)
  return { ...cidr, block }
}

// Most specific first, so the first block that contains an address is the
// one that decides (a globally reachable /32 inside a refused /24).
const bySpecificity = (a: Range, b: Range): number => b.prefix - a.prefix
const IPV4_RANGES: readonly Range[] = IPV4_SPECIAL_PURPOSE_BLOCKS.map(range).sort(bySpecificity)
const IPV6_RANGES: readonly Range[] = IPV6_SPECIAL_PURPOSE_BLOCKS.map(range).sort(bySpecificity)

const GLOBAL_UNICAST = parseCidr(IPV6_GLOBAL_UNICAST)
const OUTSIDE_GLOBAL_UNICAST = { range: `outside ${IPV6_GLOBAL_UNICAST}`, label: 'not global unicast' } as const

function parseIPv4 (text: string): bigint | undefined {
  // isIPv4 accepts only four dotted decimal parts without leading zeros, so
  // the inet_aton spellings (0x7f.1, 0177.0.0.1, 2130706433) are not addresses
  // here; URLs are normalised by the WHATWG parser before they get this far.
  if (!isIPv4(text)) return undefined
  let value = 0n
  for (const part of text.split('.')) value = (value << 8n) | BigInt(Number(part))
  return value
}

function parseIPv6 (text: string): bigint | undefined {
  // A zone id (fe80::1%eth0) scopes an address to an interface; webhook
  // endpoints never need one, so such input is not an address to us.
  if (text.includes('%') || !isIPv6(text)) return undefined
  let hextets = text
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail)
    if (v4 === undefined) return undefined
    hextets = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const [head = '', rest] = hextets.split('::')
  const split = (part: string): string[] => part === '' ? [] : part.split(':')
  const left = split(head)
  const right = rest === undefined ? [] : split(rest)
  const missing = 8 - left.length - right.length
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined
  let value = 0n
  for (const group of [...left, ...Array<string>(rest === undefined ? 0 : missing).fill('0'), ...right]) {
    value = (value << 16n) | BigInt(Number.parseInt(group, 16))
  }
  return value
}

function parseAddress (text: string): { family: 4 | 6, value: bigint } | undefined {
  const v4 = parseIPv4(text)
  if (v4 !== undefined) return { family: 4, value: v4 }
  const v6 = parseIPv6(text)
  if (v6 !== undefined) return { family: 6, value: v6 }
  return undefined
}

function formatIPv4 (value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.')
}

function formatIPv6 (value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn))
  // RFC 5952: compress the longest run (of two or more) of zero groups.
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { bestStart = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

function contains (cidr: Cidr, family: 4 | 6, value: bigint): boolean {
  if (cidr.family !== family) return false
  const shift = BigInt((family === 4 ? V4_BITS : V6_BITS) - cidr.prefix)
  return value >> shift === cidr.base >> shift
}

/**
 * Parses `address/prefix` (or a bare address, meaning a single host). Host
 * bits must be zero, so a typo such as `10.0.0.1/8` is caught rather than
 * silently widened. Throws a `RangeError` that says what is wrong.
 */
export function parseCidr (text: string): Cidr {
  const trimmed = text.trim()
  const slash = trimmed.indexOf('/')
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash)
  const parsed = parseAddress(addressText)
  if (parsed === undefined) throw new RangeError(`"${text}" is not a CIDR block: "${addressText}" is not an IPv4 or IPv6 address`)
  const bits = parsed.family === 4 ? V4_BITS : V6_BITS
  const prefixText = slash === -1 ? String(bits) : trimmed.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new RangeError(`"${text}" is not a CIDR block: the prefix length must be 0-${bits}`)
  }
  const prefix = Number(prefixText)
  const hostMask = (1n << BigInt(bits - prefix)) - 1n
  const format = parsed.family === 4 ? formatIPv4 : formatIPv6
  if ((parsed.value & hostMask) !== 0n) {
    throw new RangeError(`"${text}" has host bits set; did you mean ${format(parsed.value & ~hostMask)}/${prefix}?`)
  }
  return { family: parsed.family, base: parsed.value, prefix, text: `${format(parsed.value)}/${prefix}` }
}

/** Validates the options once and returns a frozen policy. */
export function createSsrfPolicy (options: SsrfPolicyOptions = {}): SsrfPolicy {
  const allow = Object.freeze([...(options.allowCidrs ?? [])].map((text) => Object.freeze(parseCidr(text))))
  return Object.freeze({ allowHttp: options.allowHttp ?? false, allow })
}

const DEFAULT_POLICY = createSsrfPolicy()

function allowedBy (policy: SsrfPolicy, family: 4 | 6, value: bigint): string | undefined {
  return policy.allow.find((cidr) => contains(cidr, family, value))?.text
}

function judge (policy: SsrfPolicy, family: 4 | 6, value: bigint, verdict: { range: string, label: string }, embeddedIPv4?: bigint): AddressVerdict {
  const opened = allowedBy(policy, family, value) ??
    (embeddedIPv4 === undefined ? undefined : allowedBy(policy, 4, embeddedIPv4))
  return opened === undefined ? { allowed: false, ...verdict } : { allowed: true, ...verdict, allowedBy: opened }
}

/**
 * Whether a webhook may be sent to `ip`, a plain IPv4 (dotted decimal) or
 * IPv6 address as a resolver returns it, without brackets. Anything else,
 * including an address with a zone id, is refused: the guard fails closed.
 */
export function classifyAddress (ip: string, policy: SsrfPolicy = DEFAULT_POLICY): AddressVerdict {
  const parsed = parseAddress(ip)
  if (parsed === undefined) return { allowed: false, range: 'invalid', label: 'not a plain IPv4 or IPv6 address' }
  const { family, value } = parsed

  if (family === 4) {
    const hit = IPV4_RANGES.find((r) => contains(r, 4, value))
    if (hit === undefined || hit.block.globallyReachable === true) return { allowed: true }
    return judge(policy, 4, value, { range: hit.text, label: hit.block.label })
  }

  const hit = IPV6_RANGES.find((r) => contains(r, 6, value))
  if (hit?.block.embedsIPv4 === true) {
    const ipv4 = value & 0xffffffffn
    const inner = IPV4_RANGES.find((r) => contains(r, 4, ipv4))
    if (inner === undefined || inner.block.globallyReachable === true) return { allowed: true }
    return judge(policy, 6, value, { range: inner.text, label: `${inner.block.label}, via ${hit.block.label} ${hit.text}` }, ipv4)
  }
  if (hit?.block.globallyReachable === true) return { allowed: true }
  if (hit !== undefined) return judge(policy, 6, value, { range: hit.text, label: hit.block.label })
  if (!contains(GLOBAL_UNICAST, 6, value)) return judge(policy, 6, value, OUTSIDE_GLOBAL_UNICAST)
  return { allowed: true }
}

/** One line for logs and API errors, e.g. `10.0.0.1 is in 10.0.0.0/8 (private (RFC 1918))`. */
export function describeVerdict (ip: string, verdict: AddressVerdict): string {
  if (verdict.range === undefined) return `${ip} is a public address`
  const where = `${ip} is in ${verdict.range} (${verdict.label ?? 'special-purpose'})`
  return verdict.allowedBy === undefined ? where : `${where}, allowed by ${verdict.allowedBy}`
}
