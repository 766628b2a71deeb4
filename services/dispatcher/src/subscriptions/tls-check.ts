// An endpoint's mTLS material checked when it is created, changed or
// imported: the PEM is parsed with Node's crypto (delivery/tls/material.ts,
// the same checks a delivery makes), so text that only looks like PEM
// ("-----BEGIN Z 0S6-----") is a validation error naming the field, not a
// failure at the first delivery.
import { checkTlsMaterial } from '../delivery/tls/material.js'
import { TlsMaterialError } from '../errors.js'
import { tlsPairProblem, type SchemaProblem, type Tls } from './schema.js'

/**
 * The first problem of an endpoint's `tls` value that conforms to the schema:
 * the certificate and key go together ({@link tlsPairProblem}), and every PEM
 * parses. `field` is e.g. `tls.clientKeyPem`; the reason never quotes PEM.
 */
export function tlsMaterialProblem (tls: Tls | null | undefined, prefix = 'tls'): SchemaProblem | undefined {
  if (tls === null || tls === undefined) return undefined
  const pair = tlsPairProblem(tls, prefix)
  if (pair !== undefined) return pair
  try {
    checkTlsMaterial(tls)
  } catch (err) {
    if (err instanceof TlsMaterialError) return { field: `${prefix}.${err.field}`, reason: err.message.slice(`tls.${err.field}: `.length) }
    throw err
  }
  return undefined
}
