// TLS failures of a delivery attempt: which error codes mean "TLS", and the
// two errors the deliverer raises itself. Every one maps to the `tls` attempt
// error code.
import { DispatcherError, type DispatcherErrorOptions } from '../../errors.js'

/**
 * An endpoint's TLS material cannot be used: a certificate without its key,
 * a key that does not match the certificate, PEM that does not parse. Nothing
 * is sent. Not retriable as such: the subscription must be fixed (the engine
 * still retries on its schedule). The message never contains the PEM.
 */
export class TlsMaterialError extends DispatcherError {
  static override readonly code = 'WHD_ERR_TLS_MATERIAL'
  /** The offending field of `DeliveryTlsMaterial`, e.g. `clientKeyPem`. */
  readonly field: string

  constructor (field: string, problem: string, options: DispatcherErrorOptions = {}) {
    super(`tls.${field}: ${problem}`, { ...options, retriable: false })
    this.field = field
  }
}

/**
 * The server closed or reset the connection during the TLS handshake, before
 * it was established: typically it refused the client certificate (or the
 * lack of one) under TLS 1.2, or it does not speak TLS on that port.
 */
export class TlsHandshakeError extends DispatcherError {
  static override readonly code = 'WHD_ERR_TLS_HANDSHAKE'

  constructor (message: string, options: DispatcherErrorOptions = {}) {
    super(message, { ...options, retriable: true })
  }
}

// Certificate verification results (OpenSSL's X509_V_ERR_* names, as Node
// reports them) and Node's TLS protocol error.
const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
  TlsMaterialError.code,
  TlsHandshakeError.code
])

/**
 * Whether an error `code` is a TLS failure: a verification result, an
 * OpenSSL TLS error (`ERR_SSL_*`, including alerts the server sent), a Node
 * TLS error (`ERR_TLS_*`) or one of ours.
 */
export function isTlsErrorCode (code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')
}
