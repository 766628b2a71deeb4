// SSRF protection for endpoint URLs (DESIGN §6), in three parts:
// - ssrf/address-policy.ts: which addresses are reachable (pure);
// - ssrf/endpoint-url.ts:   validation when an endpoint is created or updated;
// - ssrf/connect-guard.ts:  the check on the addresses actually dialled.
export {
  classifyAddress,
  createSsrfPolicy,
  describeVerdict,
  parseCidr,
  type AddressVerdict,
  type Cidr,
  type SsrfPolicy,
  type SsrfPolicyOptions
} from './ssrf/address-policy.js'
export { checkEndpointUrl, SSRF_BLOCKED, URL_INVALID, type EndpointUrlCheck } from './ssrf/endpoint-url.js'
export {
  createSsrfConnector,
  createSsrfLookup,
  ssrfBlocked,
  type ResolvedAddress,
  type SsrfConnectorOptions,
  type SsrfGuardOptions,
  type SsrfResolver
} from './ssrf/connect-guard.js'
