// TLS failures of a delivery attempt: which error codes mean "TLS" (the two
// the deliverer raises itself are in errors.ts). Every one maps to the `tls`
// attempt error code.
import { TlsHandshakeError, TlsMaterialError } from '../../errors.js'

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
