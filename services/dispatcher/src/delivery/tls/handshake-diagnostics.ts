// Makes TLS rejections recognisable as such. Two cases hide behind generic
// socket errors:
// - the server drops the connection mid-handshake (TLS 1.2 servers refusing a
//   client certificate, or a port that is not TLS): Node reports ECONNRESET;
//   while the handshake is running that can only be a TLS failure;
// - under TLS 1.3 the client's handshake completes before the server has
//   checked the client certificate (RFC 8446 §4.4.2.4), so the refusal, the
//   server's alert, arrives on an "established" socket after the request was
//   written, and undici reports the close that follows ("other side closed")
//   instead of the alert. The alert is kept and hung on that later error as
//   its `cause`, where the deliverer's classification finds it.
import type { TLSSocket } from 'node:tls'
import type { buildConnector } from 'undici'
import { TlsHandshakeError } from '../../errors.js'
import { isTlsErrorCode } from './errors.js'

function codeOf (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function isTlsError (err: unknown): err is Error {
  const code = codeOf(err)
  return err instanceof Error && code !== undefined && isTlsErrorCode(code)
}

/** Keeps the first TLS error a socket reports and makes it the `cause` of later ones. */
function keepTlsAlert (socket: TLSSocket): void {
  let alert: Error | undefined
  socket.on('error', (err: Error) => {
    if (alert === undefined) {
      if (isTlsError(err)) alert = err
    } else if (err !== alert && err.cause === undefined) {
      Object.defineProperty(err, 'cause', { value: alert, configurable: true, writable: true, enumerable: false })
    }
  })
}

/**
 * Wraps an undici connector (for https origins; plain http passes through):
 * a reset while the handshake runs becomes a {@link TlsHandshakeError}, and
 * a TLS alert on an established socket is attached as the `cause` of the
 * error that later fails the request on it.
 */
export function withTlsDiagnostics (connect: buildConnector.connector): buildConnector.connector {
  return function tlsDiagnosticsConnect (options, callback) {
    if (options.protocol !== 'https:') {
      connect(options, callback)
      return
    }
    connect(options, (...args) => {
      const [err, socket] = args
      if (err === null) {
        keepTlsAlert(socket as TLSSocket)
        callback(null, socket)
        return
      }
      const code = codeOf(err)
      if (code === 'ECONNRESET' || code === 'EPIPE') {
        callback(new TlsHandshakeError(`${options.hostname}: the server closed the connection during the TLS handshake (${code})`, { cause: err }), null)
        return
      }
      callback(err, null)
    })
  }
}
