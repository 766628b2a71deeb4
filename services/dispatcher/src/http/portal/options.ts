import type { PortalLedger } from '../../portal/ledger.js'

/** The tenant portal's sign-in settings (PORTAL_* in config.ts). */
export interface PortalOptions {
  /** Signs links and sessions (PORTAL_SESSION_KEY). */
  key: Buffer
  ledger: PortalLedger
  /** @defaultValue 600 */
  linkTtlSeconds?: number
  /** @defaultValue 3600 */
  sessionTtlSeconds?: number
  /** Origin links name; undefined = the origin of the minting request. */
  publicUrl?: string
  /** Set the cookie `Secure` (`__Host-` prefixed): the admin API serves HTTPS. */
  secureCookie: boolean
}

/** The header every portal call carries: a cross-site form cannot set it, and a cross-site fetch with it needs a CORS preflight the API never grants. */
export const PORTAL_REQUEST_HEADER = 'x-portal-request'

export const cookieName = (secure: boolean): string => (secure ? '__Host-whd_portal' : 'whd_portal')
