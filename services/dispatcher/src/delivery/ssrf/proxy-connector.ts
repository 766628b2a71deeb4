// Webhooks through an HTTP CONNECT proxy (WEBHOOK_PROXY_URL), with the SSRF
// policy still applied to the final destination. A proxy that resolves the
// endpoint's name itself would reopen what the connect guard closes (a name
// that resolves to a private address, or rebinds between two lookups), so
// the dispatcher resolves and judges the name as it does without a proxy and
// asks the proxy for a tunnel to the approved address (CONNECT 203.0.113.7:443),
// never to the name. TLS then runs end to end through the tunnel, verified
// against the endpoint's host name (SNI and certificate check): the proxy
// sees an address and ciphertext only.
import { connect as netConnect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import type { buildConnector } from 'undici'
import { classifyAddress, type SsrfPolicy } from './address-policy.js'
import { createSsrfLookup, ssrfBlocked, type SsrfGuardOptions } from './connect-guard.js'

export interface ProxyConnectorOptions extends SsrfGuardOptions {
  /** The proxy, `http://[user:password@]host:port`; the proxy itself is not subject to the SSRF policy (it is the operator's). */
  proxy: URL
}

/** An approved address of `hostname` (every address it resolves to must be allowed). */
function approvedAddress (hostname: string, policy: SsrfPolicy, options: SsrfGuardOptions): Promise<string> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  if (isIP(bare) !== 0) {
    const verdict = classifyAddress(bare, policy)
    return verdict.allowed ? Promise.resolve(bare) : Promise.reject(ssrfBlocked(bare, bare, verdict))
  }
  const lookup = createSsrfLookup(policy, options)
  return new Promise((resolve, reject) => {
    lookup(bare, { all: false, family: 0 }, (err, address) => {
      if (err !== null) reject(err)
      else resolve(address as string)
    })
  })
}

/**
 * Opens the tunnel: CONNECT address:port, and waits for the proxy's 2xx.
 * Failures carry the transport codes a direct connection would (a refusal
 * ECONNREFUSED, a deadline UND_ERR_CONNECT_TIMEOUT), so the deliverer
 * classifies and retries them the same way: for the engine a proxy that
 * refuses is an endpoint it cannot reach.
 */
function openTunnel (proxy: URL, address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port) || 80 })
    const authority = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`
    const credentials = proxy.username === '' ? undefined : Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')
    const timer = setTimeout(() => fail(Object.assign(new Error(`proxy ${proxy.host}: no tunnel to ${authority} within ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeoutMs)
    let head = Buffer.alloc(0)
    function fail (err: Error): void {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    socket.once('error', fail)
    socket.once('connect', () => {
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${credentials === undefined ? '' : `Proxy-Authorization: Basic ${credentials}\r\n`}\r\n`)
    })
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) {
        if (head.length > 16 * 1024) fail(new Error(`proxy ${proxy.host}: response head too long`))
        return
      }
      socket.off('data', onData)
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1])
      if (!(status >= 200 && status < 300)) {
        // 403/407 and the like: the proxy refused the destination or us.
        fail(Object.assign(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: ${Number.isNaN(status) ? 'no HTTP status' : status}`), { code: 'ECONNREFUSED' }))
        return
      }
      clearTimeout(timer)
      socket.off('error', fail)
      // Bytes after the head belong to the tunnel.
      const rest = head.subarray(end + 4)
      if (rest.length > 0) socket.unshift(rest)
      resolve(socket)
    }
    socket.on('data', onData)
  })
}

function upgrade (socket: Socket, servername: string, connectOptions: Partial<buildConnector.BuildOptions>, timeoutMs: number): Promise<Socket> {
  const { timeout: _timeout, lookup: _lookup, ...tlsOptions } = connectOptions as Partial<buildConnector.BuildOptions> & { lookup?: unknown }
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      ...(tlsOptions as ConnectionOptions),
      socket,
      // An IP-literal endpoint gets no SNI (RFC 6066 §3), but its certificate is still checked against the address.
      ...(isIP(servername) === 0 ? { servername } : {}),
      host: servername,
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: true
    })
    const timer = setTimeout(() => { tls.destroy(); reject(Object.assign(new Error(`TLS handshake with ${servername} through the proxy took over ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })) }, timeoutMs)
    tls.once('secureConnect', () => { clearTimeout(timer); tls.off('error', onError); resolve(tls) })
    const onError = (err: Error): void => { clearTimeout(timer); tls.destroy(); reject(err) }
    tls.once('error', onError)
  })
}

/**
 * An undici connector that reaches every origin through the proxy: the
 * endpoint's host is resolved and judged by the SSRF policy here, the tunnel
 * goes to the approved address, and https origins get TLS through it with
 * `connectOptions` (CA, client certificate, secure context) and the host name
 * as SNI. The whole connect (proxy, tunnel, handshake) is bounded by
 * `connectOptions.timeout`.
 */
export function createProxyConnector (policy: SsrfPolicy, connectOptions: Partial<buildConnector.BuildOptions>, options: ProxyConnectorOptions): buildConnector.connector {
  if (options.proxy.protocol !== 'http:') throw new TypeError(`proxy ${options.proxy.href}: only http:// proxies (CONNECT) are supported`)
  const timeoutMs = connectOptions.timeout ?? 10_000
  return function proxyConnect (target, callback) {
    const started = Date.now()
    const left = (): number => Math.max(1, timeoutMs - (Date.now() - started))
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80)
    void (async () => {
      const address = await approvedAddress(target.hostname, policy, options)
      const tunnel = await openTunnel(options.proxy, address, port, left())
      if (target.protocol !== 'https:') return tunnel
      const servername = target.servername ?? target.hostname.replace(/^\[|\]$/g, '')
      return await upgrade(tunnel, servername, connectOptions, left())
    })().then((socket) => callback(null, socket), (err: Error) => callback(err, null))
  }
}
