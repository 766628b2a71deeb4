// An endpoint's TLS material (DeliveryRequest.tls) turned into what a TLS
// connection needs: a cache key and one secure context, checked up front so
// bad PEM fails the attempt with a named field instead of a handshake error.
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { createSecureContext, rootCertificates, type SecureContext, type SecureContextOptions } from 'node:tls'
import type { DeliveryTlsMaterial } from '../types.js'
import { TlsMaterialError } from '../../errors.js'

/**
 * The material with empty fields dropped, or undefined when none is left (such
 * a request uses the shared connections, like one without `tls`).
 */
export function normaliseTlsMaterial (tls: DeliveryTlsMaterial | undefined): DeliveryTlsMaterial | undefined {
  if (tls === undefined) return undefined
  const out: DeliveryTlsMaterial = {}
  if (tls.clientCertPem !== undefined && tls.clientCertPem !== '') out.clientCertPem = tls.clientCertPem
  if (tls.clientKeyPem !== undefined && tls.clientKeyPem !== '') out.clientKeyPem = tls.clientKeyPem
  if (tls.caPem !== undefined && tls.caPem !== '') out.caPem = tls.caPem
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * A fixed-length key for caches: SHA-256 over the three PEMs. It identifies
 * the material without holding it, so the private key lives only in the
 * secure context.
 */
export function tlsMaterialKey (tls: DeliveryTlsMaterial): string {
  return createHash('sha256')
    .update(JSON.stringify([tls.clientCertPem ?? null, tls.clientKeyPem ?? null, tls.caPem ?? null]))
    .digest('base64url')
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

function certificates (pem: string, field: 'clientCertPem' | 'caPem'): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? []
  if (blocks.length === 0) throw new TlsMaterialError(field, 'contains no PEM certificate')
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block)
    } catch (err) {
      throw new TlsMaterialError(field, `certificate ${i + 1} does not parse`, { cause: err })
    }
  })
}

function asList (ca: NonNullable<SecureContextOptions['ca']>): Array<string | Buffer> {
  return Array.isArray(ca) ? ca : [ca]
}

/**
 * Parses the material with Node's crypto as a TLS connection would use it,
 * without building a secure context: every certificate block of
 * `clientCertPem` and `caPem` is an X.509 certificate, `clientKeyPem` is an
 * unencrypted private key that belongs to the first certificate, and the
 * client certificate and key come together. The subscription store calls it
 * when an endpoint is created or changed, so bad PEM is refused there (400)
 * rather than at the first delivery.
 *
 * Throws {@link TlsMaterialError} naming the field; messages never include PEM.
 */
export function checkTlsMaterial (tls: DeliveryTlsMaterial): void {
  const { clientCertPem, clientKeyPem, caPem } = tls
  if ((clientCertPem === undefined) !== (clientKeyPem === undefined)) {
    throw new TlsMaterialError(clientCertPem === undefined ? 'clientCertPem' : 'clientKeyPem', 'clientCertPem and clientKeyPem go together')
  }
  if (clientCertPem !== undefined && clientKeyPem !== undefined) {
    const [leaf] = certificates(clientCertPem, 'clientCertPem')
    let key: KeyObject
    try {
      key = createPrivateKey(clientKeyPem)
    } catch (err) {
      throw new TlsMaterialError('clientKeyPem', 'is not an unencrypted PEM private key', { cause: err })
    }
    if (key.type !== 'private') throw new TlsMaterialError('clientKeyPem', 'is not an unencrypted PEM private key')
    if (leaf === undefined || !leaf.checkPrivateKey(key)) throw new TlsMaterialError('clientKeyPem', 'does not belong to the first certificate of clientCertPem')
  }
  if (caPem !== undefined) certificates(caPem, 'caPem')
}

/**
 * Builds the secure context for one endpoint's material on top of the
 * deliverer's own TLS options (`base`, its undici connect options).
 *
 * Trust: `caPem` is ADDED to what the deliverer trusts anyway (Node's
 * bundled roots, or `base.ca` when the deliverer was given one), because a
 * custom `ca` on its own replaces Node's trust store. An endpoint that moves
 * from a private to a public certificate thus keeps working. A tenant's CA
 * applies to that endpoint's connections only, so it cannot vouch for anyone
 * else's host; it is not pinning either: a publicly trusted certificate for
 * the endpoint's name passes too. The cost is memory: a context with its own
 * CA list holds a private copy of the root store (about 0.8 MB, tens of ms
 * of CPU to build), which is why contexts are built once per material and
 * cached; without `caPem` the context shares Node's store.
 *
 * Throws {@link TlsMaterialError} when the material cannot work: a
 * certificate without its key (or the reverse), PEM that does not parse, a
 * key that does not belong to the certificate. Messages never include PEM.
 */
export function createTlsSecureContext (tls: DeliveryTlsMaterial, base: SecureContextOptions = {}): SecureContext {
  checkTlsMaterial(tls)
  const { clientCertPem, clientKeyPem, caPem } = tls
  const options: SecureContextOptions = { ...base }
  if (clientCertPem !== undefined && clientKeyPem !== undefined) {
    options.cert = clientCertPem
    options.key = clientKeyPem
  }
  if (caPem !== undefined) {
    options.ca = [...(base.ca === undefined ? rootCertificates : asList(base.ca)), caPem]
  }
  try {
    return createSecureContext(options)
  } catch (err) {
    throw new TlsMaterialError(clientCertPem === undefined ? 'caPem' : 'clientCertPem', 'cannot be used for TLS', { cause: err })
  }
}
