// The address blocks the SSRF policy knows (DESIGN §6), as data: the IANA
// IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890, as updated by
// RFC 7723, 8155, 8190, 8880, 9374, 9602, 9637, 9665 and others), entry for
// entry, plus the few blocks a webhook must not reach that those registries
// do not list (multicast, the deprecated IPv4-compatible form). The policy
// (address-policy.ts) and its tests iterate this one table.
//
// Reproduced revision: the registries as they stood in 2025 — IPv4 with the
// 6a44-relay anycast entry (192.88.99.2/32), IPv6 with the documentation
// block 3fff::/20 (RFC 9637), SRv6 SIDs 5f00::/16 (RFC 9602), the DNS-SD SRP
// anycast address 2001:1::3/128 (RFC 9665) and the dummy prefix
// 100:0:0:1::/64 (RFC 9780). Compare with
// https://www.iana.org/assignments/iana-ipv4-special-registry and
// https://www.iana.org/assignments/iana-ipv6-special-registry when updating.
//
// Rule: the most specific block containing an address decides. A block the
// registry marks "Globally Reachable: True" is a hole in a larger refused
// block (2001:20::/28 in 2001::/23); anything else — False or N/A — is refused
// unless SSRF_ALLOW_CIDRS opens it.

/** The registry's "Globally Reachable" column; `N/A` for deprecated blocks. */
export type GloballyReachable = true | false | 'N/A'

export interface SpecialPurposeBlock {
  /** Canonical CIDR text, e.g. `192.0.2.0/24` (checked by the policy at load). */
  readonly cidr: string
  /** The registry's "Name" column (or our name for a block it does not list). */
  readonly name: string
  /** The defining documents, e.g. `RFC 1918`. */
  readonly rfc: string
  readonly globallyReachable: GloballyReachable
  /** Where the entry comes from. */
  readonly source: 'iana-ipv4-special' | 'iana-ipv6-special' | 'other'
  /** Short wording for logs and API errors, e.g. `private (RFC 1918)`. */
  readonly label: string
  /**
   * Judge the IPv4 address in the low 32 bits instead: Node dials an
   * IPv4-mapped address as IPv4, and a NAT64 well-known-prefix address is
   * translated to the IPv4 address it carries.
   */
  readonly embedsIPv4?: true
}

const v4 = (cidr: string, name: string, rfc: string, globallyReachable: GloballyReachable, label: string): SpecialPurposeBlock =>
  ({ cidr, name, rfc, globallyReachable, source: 'iana-ipv4-special', label })
const v6 = (cidr: string, name: string, rfc: string, globallyReachable: GloballyReachable, label: string, options: { embedsIPv4?: true } = {}): SpecialPurposeBlock =>
  ({ cidr, name, rfc, globallyReachable, source: 'iana-ipv6-special', label, ...options })
const other = (cidr: string, name: string, rfc: string, label: string): SpecialPurposeBlock =>
  ({ cidr, name, rfc, globallyReachable: false, source: 'other', label })

/** IANA IPv4 Special-Purpose Address Registry, in the registry's order, then the extras. */
export const IPV4_SPECIAL_PURPOSE_BLOCKS: readonly SpecialPurposeBlock[] = Object.freeze([
  v4('0.0.0.0/8', '"This network"', 'RFC 791', false, '"this network" (0.0.0.0 reaches the local host)'),
  v4('0.0.0.0/32', '"This host on this network"', 'RFC 1122', false, '"this host on this network"'),
  v4('10.0.0.0/8', 'Private-Use', 'RFC 1918', false, 'private (RFC 1918)'),
  v4('100.64.0.0/10', 'Shared Address Space', 'RFC 6598', false, 'shared address space (CGNAT, RFC 6598)'),
  v4('127.0.0.0/8', 'Loopback', 'RFC 1122', false, 'loopback'),
  v4('169.254.0.0/16', 'Link Local', 'RFC 3927', false, 'link-local (cloud metadata)'),
  v4('172.16.0.0/12', 'Private-Use', 'RFC 1918', false, 'private (RFC 1918)'),
  v4('192.0.0.0/24', 'IETF Protocol Assignments', 'RFC 6890', false, 'IETF protocol assignments'),
  v4('192.0.0.0/29', 'IPv4 Service Continuity Prefix', 'RFC 7335', false, 'IPv4 service continuity (DS-Lite)'),
  v4('192.0.0.8/32', 'IPv4 dummy address', 'RFC 7600', false, 'IPv4 dummy address'),
  v4('192.0.0.9/32', 'Port Control Protocol Anycast', 'RFC 7723', true, 'PCP anycast'),
  v4('192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', 'RFC 8155', true, 'TURN anycast'),
  v4('192.0.0.170/32', 'NAT64/DNS64 Discovery', 'RFC 8880, RFC 7050', false, 'NAT64/DNS64 discovery'),
  v4('192.0.0.171/32', 'NAT64/DNS64 Discovery', 'RFC 8880, RFC 7050', false, 'NAT64/DNS64 discovery'),
  v4('192.0.2.0/24', 'Documentation (TEST-NET-1)', 'RFC 5737', false, 'documentation (TEST-NET-1)'),
  v4('192.31.196.0/24', 'AS112-v4', 'RFC 7535', true, 'AS112'),
  v4('192.52.193.0/24', 'AMT', 'RFC 7450', true, 'AMT'),
  v4('192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', 'RFC 7526', 'N/A', '6to4 relay anycast (deprecated)'),
  v4('192.88.99.2/32', '6a44-relay anycast address', 'RFC 6751', false, '6a44 relay anycast'),
  v4('192.168.0.0/16', 'Private-Use', 'RFC 1918', false, 'private (RFC 1918)'),
  v4('192.175.48.0/24', 'Direct Delegation AS112 Service', 'RFC 7534', true, 'AS112 direct delegation'),
  v4('198.18.0.0/15', 'Benchmarking', 'RFC 2544', false, 'benchmarking'),
  v4('198.51.100.0/24', 'Documentation (TEST-NET-2)', 'RFC 5737', false, 'documentation (TEST-NET-2)'),
  v4('203.0.113.0/24', 'Documentation (TEST-NET-3)', 'RFC 5737', false, 'documentation (TEST-NET-3)'),
  v4('240.0.0.0/4', 'Reserved', 'RFC 1112', false, 'reserved'),
  v4('255.255.255.255/32', 'Limited Broadcast', 'RFC 8190, RFC 919', false, 'limited broadcast'),
  // Not special-purpose unicast, so not in that registry: the multicast space.
  other('224.0.0.0/4', 'Multicast', 'RFC 5771', 'multicast')
])

/** IANA IPv6 Special-Purpose Address Registry, in the registry's order, then the extras. */
export const IPV6_SPECIAL_PURPOSE_BLOCKS: readonly SpecialPurposeBlock[] = Object.freeze([
  v6('::1/128', 'Loopback Address', 'RFC 4291', false, 'loopback'),
  v6('::/128', 'Unspecified Address', 'RFC 4291', false, 'unspecified'),
  v6('::ffff:0:0/96', 'IPv4-mapped Address', 'RFC 4291', false, 'IPv4-mapped', { embedsIPv4: true }),
  v6('64:ff9b::/96', 'IPv4-IPv6 Translat.', 'RFC 6052', true, 'NAT64 well-known prefix', { embedsIPv4: true }),
  v6('64:ff9b:1::/48', 'IPv4-IPv6 Translat.', 'RFC 8215', false, 'NAT64 local-use prefix'),
  v6('100::/64', 'Discard-Only Address Block', 'RFC 6666', false, 'discard-only'),
  v6('100:0:0:1::/64', 'Dummy IPv6 Prefix', 'RFC 9780', false, 'dummy prefix'),
  v6('2001::/23', 'IETF Protocol Assignments', 'RFC 2928', false, 'IETF protocol assignments'),
  v6('2001::/32', 'TEREDO', 'RFC 4380, RFC 8190', 'N/A', 'Teredo'),
  v6('2001:1::1/128', 'Port Control Protocol Anycast', 'RFC 7723', true, 'PCP anycast'),
  v6('2001:1::2/128', 'Traversal Using Relays around NAT Anycast', 'RFC 8155', true, 'TURN anycast'),
  v6('2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast', 'RFC 9665', true, 'DNS-SD SRP anycast'),
  v6('2001:2::/48', 'Benchmarking', 'RFC 5180', false, 'benchmarking'),
  v6('2001:3::/32', 'AMT', 'RFC 7450', true, 'AMT'),
  v6('2001:4:112::/48', 'AS112-v6', 'RFC 7535', true, 'AS112'),
  v6('2001:10::/28', 'Deprecated (previously ORCHID)', 'RFC 4843', 'N/A', 'ORCHID (deprecated)'),
  v6('2001:20::/28', 'ORCHIDv2', 'RFC 7343', true, 'ORCHIDv2'),
  v6('2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', 'RFC 9374', true, 'drone remote ID (DET)'),
  v6('2001:db8::/32', 'Documentation', 'RFC 3849', false, 'documentation'),
  v6('2002::/16', '6to4', 'RFC 3056', 'N/A', '6to4'),
  v6('2620:4f:8000::/48', 'Direct Delegation AS112 Service', 'RFC 7534', true, 'AS112 direct delegation'),
  v6('3fff::/20', 'Documentation', 'RFC 9637', false, 'documentation'),
  v6('5f00::/16', 'Segment Routing (SRv6) SIDs', 'RFC 9602', false, 'SRv6 SIDs'),
  v6('fc00::/7', 'Unique-Local', 'RFC 4193, RFC 8190', false, 'unique local (private)'),
  v6('fe80::/10', 'Link-Local Unicast', 'RFC 4291', false, 'link-local'),
  // Not in the registry: the deprecated IPv4-compatible form (::a.b.c.d,
  // whose target depends on the host's tunnelling) and multicast. The rest of
  // the space outside 2000::/3 is refused by the policy anyway.
  other('::/96', 'IPv4-compatible Address (deprecated)', 'RFC 4291', 'IPv4-compatible (deprecated)'),
  other('ff00::/8', 'Multicast', 'RFC 4291', 'multicast')
])

/**
 * IANA has allocated only 2000::/3 for global unicast (RFC 4291 §2.4); the
 * rest of the IPv6 space is reserved or special-purpose.
 */
export const IPV6_GLOBAL_UNICAST = '2000::/3'
