// Validation of an endpoint URL when a subscription is created or updated
// (DESIGN §6). It refuses what can be judged from the URL alone; host names
// are judged again, on the addresses actually dialled, at connect time.
import { isIPv4 } from 'node:net'
import { classifyAddress, describeVerdict, type SsrfPolicy } from './address-policy.js'

export const SSRF_BLOCKED = 'WHD_ERR_SSRF_BLOCKED'
export const URL_INVALID = 'WHD_ERR_URL_INVALID'

export type EndpointUrlCheck =
  /** `url` is the WHATWG-normalised form, e.g. `https://example.com/hook`. */
  | { ok: true, url: string }
  | { ok: false, code: typeof SSRF_BLOCKED | typeof URL_INVALID, reason: string }

const invalid = (reason: string): EndpointUrlCheck => ({ ok: false, code: URL_INVALID, reason })

// RFC 6761 §6.3: `localhost` and every name under it resolve to loopback.
const LOCALHOST = /(^|\.)localhost\.?$/

/**
 * Checks an endpoint URL against the policy: `https:` only (unless
 * `allowHttp`), no credentials, and no IP literal in a refused range.
 *
 * The WHATWG parser (`new URL`) first turns every spelling of an IPv4 address
 * into dotted decimal (`0x7f.1`, `2130706433`, `0177.0.0.1`, `127.1`,
 * fullwidth digits, percent-encoding) and compresses IPv6 (`[::ffff:127.0.0.1]`
 * becomes `[::ffff:7f00:1]`); the check classifies that normalised host, the
 * same string undici later dials. A host name passes unless it is a
 * `localhost` name: what it resolves to is only known, and only checked, when
 * the dispatcher connects.
 */
export function checkEndpointUrl (input: string, policy: SsrfPolicy): EndpointUrlCheck {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return invalid('not an absolute URL')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return invalid(policy.allowHttp
      ? `the scheme must be https or http, not ${url.protocol.slice(0, -1)}`
      : `the scheme must be https, not ${url.protocol.slice(0, -1)}`)
  }
  if (url.username !== '' || url.password !== '') {
    return invalid('the URL must not contain credentials (user:password@); authenticate with the webhook signature')
  }

  const { hostname } = url
  const blocked = (reason: string): EndpointUrlCheck => ({ ok: false, code: SSRF_BLOCKED, reason: `the host is not reachable for webhooks: ${reason}` })
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : isIPv4(hostname) ? hostname : undefined
  if (literal !== undefined) {
    const verdict = classifyAddress(literal, policy)
    if (!verdict.allowed) return blocked(describeVerdict(literal, verdict))
  } else if (LOCALHOST.test(hostname)) {
    // Refused unless loopback is opened in some family; the connect-time guard
    // then judges whichever addresses the resolver really returns.
    const verdict = classifyAddress('127.0.0.1', policy)
    if (!verdict.allowed && !classifyAddress('::1', policy).allowed) {
      return blocked(`${hostname} always resolves to loopback (RFC 6761), and ${describeVerdict('127.0.0.1', verdict)}`)
    }
  }
  return { ok: true, url: url.href }
}
