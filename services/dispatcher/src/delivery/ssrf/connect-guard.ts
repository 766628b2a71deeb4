// The connect-time SSRF guard (DESIGN §6): every address the dispatcher dials
// is judged at the moment it is dialled, so a name that passed validation and
// later resolves elsewhere (DNS rebinding) is still refused.
//
// Two doors lead to a socket and both are guarded:
// - host names go through the `lookup` hook of `net.connect`/`tls.connect`:
//   the addresses our lookup approves are exactly the ones Node connects to,
//   with no second resolution in between;
// - IP literals never reach a `lookup` hook (Node connects to them directly),
//   so the connector judges the literal itself before undici opens a socket.
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP, type LookupFunction } from 'node:net'
import { buildConnector } from 'undici'
import { SsrfBlockedError } from '../../errors.js'
import { classifyAddress, describeVerdict, type AddressVerdict, type SsrfPolicy } from './address-policy.js'

/** The error for a refused address, worded from the policy's verdict. */
export function ssrfBlocked (hostname: string, address: string, verdict: AddressVerdict): SsrfBlockedError {
  return new SsrfBlockedError(hostname, address, { range: verdict.range ?? 'unknown', description: describeVerdict(address, verdict) })
}

/** One resolved address, as `dns.lookup(…, { all: true })` returns it. */
export interface ResolvedAddress {
  address: string
  family: number
}

/**
 * Resolves a host name to every address it has. `family` is 4 or 6 when the
 * caller asked for one family only (0 for both); a resolver may ignore it, as
 * the guard filters afterwards.
 */
export type SsrfResolver = (hostname: string, options: { family: 0 | 4 | 6, hints?: number }) => Promise<readonly ResolvedAddress[]>

export interface SsrfGuardOptions {
  /** Name resolution. @defaultValue `dns.lookup` with `all: true` (the OS resolver, as Node itself uses) */
  resolve?: SsrfResolver
}

export interface SsrfConnectorOptions extends SsrfGuardOptions {
  /**
   * Builds the connector that opens sockets once the guard has approved the
   * host; receives the connect options with the guarded `lookup` added.
   * A seam for tests that must never dial. @defaultValue undici's `buildConnector`
   */
  buildConnector?: (options: buildConnector.BuildOptions) => buildConnector.connector
}

const resolveWithDns: SsrfResolver = (hostname, { family, hints }) =>
  dnsLookup(hostname, { all: true, family, order: 'verbatim', ...(hints === undefined ? {} : { hints }) })

function familyOf (family: number | string | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4
  if (family === 6 || family === 'IPv6') return 6
  return 0
}

function notFound (hostname: string, family: 0 | 4 | 6): Error {
  const which = family === 0 ? 'no addresses' : `no IPv${family} address`
  return Object.assign(new Error(`${hostname} has ${which}`), { code: 'ENOTFOUND', hostname })
}

/**
 * Judges a resolver's answer: every address must be allowed, not just the one
 * Node would try first, because happy-eyeballs connects may try any of them.
 * Returns the addresses to hand to Node, or the error to fail with.
 */
function judgeAnswer (hostname: string, answer: readonly ResolvedAddress[], family: 0 | 4 | 6, policy: SsrfPolicy): ResolvedAddress[] | Error {
  const approved: ResolvedAddress[] = []
  for (const { address } of answer) {
    const verdict = classifyAddress(address, policy)
    if (!verdict.allowed) return ssrfBlocked(hostname, address, verdict)
    // The address text, not the resolver's label, decides the family.
    const actual = isIP(address)
    if (family === 0 || actual === family) approved.push({ address, family: actual })
  }
  return approved.length === 0 ? notFound(hostname, family) : approved
}

/**
 * A `lookup` for `net.connect` / `tls.connect` (and undici's connector
 * options) that resolves `hostname`, refuses the connection with a
 * {@link SsrfBlockedError} (`code` `WHD_ERR_SSRF_BLOCKED`) if ANY resolved
 * address is blocked, and otherwise hands Node those same addresses, so the
 * address judged is the address dialled. Honours `options.all` and
 * `options.family`. On its own it cannot guard IP-literal hosts, which Node
 * dials without a lookup: use {@link createSsrfConnector} for undici.
 */
export function createSsrfLookup (policy: SsrfPolicy, options: SsrfGuardOptions = {}): LookupFunction {
  const resolve = options.resolve ?? resolveWithDns
  return function ssrfLookup (hostname, lookupOptions, callback) {
    const family = familyOf(lookupOptions.family)
    const all = lookupOptions.all === true
    const query = lookupOptions.hints === undefined ? { family } : { family, hints: lookupOptions.hints }
    void (async () => {
      let outcome: ResolvedAddress[] | Error
      try {
        outcome = judgeAnswer(hostname, await resolve(hostname, query), family, policy)
      } catch (err) {
        outcome = err instanceof Error ? err : new Error(`resolving ${hostname} failed: ${String(err)}`)
      }
      // Called outside the async function, so an exception thrown by Node's
      // callback surfaces as such instead of becoming a lost rejection.
      process.nextTick(() => {
        if (outcome instanceof Error) callback(outcome, all ? [] : '', 0)
        else if (all) callback(null, outcome)
        else callback(null, outcome[0]?.address ?? '', outcome[0]?.family ?? 0)
      })
    })()
  }
}

/** The IP address in a connector's `hostname`, or undefined for a name. */
function ipLiteralOf (hostname: string): string | undefined {
  // undici strips the brackets of an IPv6 origin; accept them anyway.
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) === 0 ? undefined : bare
}

/**
 * An undici connector (`new Agent({ connect })`) that enforces the SSRF
 * policy on every connection: an IP-literal host is judged before any socket
 * exists; a host name is resolved and judged by {@link createSsrfLookup},
 * which then supplies the very addresses Node connects to. `connectOptions`
 * are undici's `buildConnector` options (`timeout`, `ca`, …); a connector
 * function replaces undici's default, so pass the connect `timeout` here.
 */
export function createSsrfConnector (
  policy: SsrfPolicy,
  connectOptions: Partial<buildConnector.BuildOptions> = {},
  options: SsrfConnectorOptions = {}
): buildConnector.connector {
  const given = connectOptions as { lookup?: unknown, socketPath?: unknown }
  if (given.lookup !== undefined) throw new TypeError('createSsrfConnector: pass a resolver as options.resolve, not connectOptions.lookup (the guard is the lookup)')
  if (given.socketPath !== undefined && given.socketPath !== null) throw new TypeError('createSsrfConnector: socketPath bypasses address checks and is not supported')
  const build = options.buildConnector ?? buildConnector
  const lookup = createSsrfLookup(policy, options)
  const connect = build({ ...connectOptions, lookup } as buildConnector.BuildOptions)

  return function ssrfConnect (target, callback) {
    const literal = ipLiteralOf(target.hostname)
    if (literal !== undefined) {
      const verdict = classifyAddress(literal, policy)
      if (!verdict.allowed) {
        const err = ssrfBlocked(literal, literal, verdict)
        // undici's own connector reports failures asynchronously; so do we.
        queueMicrotask(() => callback(err, null))
        return
      }
    }
    connect(target, callback)
  }
}
