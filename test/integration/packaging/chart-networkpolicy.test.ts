// The full NetworkPolicy denies by default: every egress rule names its
// destinations (DNS goes to kube-dns only), a port without destinations has
// no rule, and the webhook destinations are generated from the dispatcher's
// own SSRF table, so the policy refuses what the dispatcher refuses.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { peersFile, peersText, webhookPeers } from '../../../deploy/helm/webhook-peers.mjs'
import { classifyAddress, parseCidr } from '../../../services/dispatcher/src/delivery/ssrf/address-policy.js'
import { IPV4_SPECIAL_PURPOSE_BLOCKS, IPV6_SPECIAL_PURPOSE_BLOCKS } from '../../../services/dispatcher/src/delivery/ssrf/special-purpose-blocks.js'
import { ciValues, one, render, renderError, type Manifest } from './helm.js'

const enabled = ['networkPolicy.enabled=true', 'networkPolicy.kafkaTo[0].ipBlock.cidr=10.20.0.0/16', 'networkPolicy.schemaRegistryTo[0].ipBlock.cidr=10.21.0.0/24']
interface Peer { ipBlock?: { cidr: string, except?: string[] }, namespaceSelector?: unknown, podSelector?: unknown }
interface Rule { ports: Array<{ port: number | string, protocol: string }>, to?: Peer[], from?: Peer[] }

async function policy (set: string[]): Promise<Manifest> {
  return one((await render({ values: [ciValues.minimal], set: [...enabled, ...set] })).filter((m) => !m.metadata.name.endsWith('-admin')), 'NetworkPolicy')
}

const egressTo = (p: Manifest, port: number): Peer[] | undefined =>
  (p.spec.egress as Rule[]).find((r) => r.ports.some((x) => x.port === port))?.to

describe('the full NetworkPolicy', () => {
  it('names the destinations of every egress rule: none allows any address by omission', async () => {
    const p = await policy([])
    for (const rule of p.spec.egress as Rule[]) expect(rule.to?.length, JSON.stringify(rule.ports)).toBeGreaterThan(0)
    expect(egressTo(p, 53)).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }])
    expect(egressTo(p, 9092)).toEqual([{ ipBlock: { cidr: '10.20.0.0/16' } }])
    expect(egressTo(p, 8080)).toEqual([{ ipBlock: { cidr: '10.21.0.0/24' } }])
  })

  it('drops the DNS rule when dnsTo is empty, and the admin rule when there are no admin sources', async () => {
    const p = await policy(['networkPolicy.dnsTo=null', 'networkPolicy.admin.enabled=false'])
    expect(egressTo(p, 53)).toBeUndefined()
    expect((p.spec.ingress as Rule[]).map((r) => r.ports[0]?.port)).toEqual(['metrics'])
  })

  it('refuses to render without the Kafka or registry destinations', async () => {
    const error = await renderError({ values: [ciValues.minimal], set: ['networkPolicy.enabled=true'] })
    expect(error).toContain('networkPolicy.kafkaTo is required')
    expect(error).toContain('networkPolicy.schemaRegistryTo is required')
  })

  it('opens the webhook ports given by value to webhooksTo as written, e.g. an egress gateway, with extra egress rules after it', async () => {
    const p = await policy(['networkPolicy.webhookPorts={443,8443,9443}', 'networkPolicy.webhooksTo[0].podSelector.matchLabels.app=egress-gateway', 'networkPolicy.extraEgress[0].ports[0].port=3128', 'networkPolicy.extraEgress[0].to[0].ipBlock.cidr=10.9.0.1/32'])
    const rules = p.spec.egress as Rule[]
    const webhooks = rules.find((r) => r.ports.some((x) => x.port === 9443))
    expect(webhooks?.ports.map((x) => x.port)).toEqual([443, 8443, 9443])
    expect(webhooks?.to).toEqual([{ podSelector: { matchLabels: { app: 'egress-gateway' } } }])
    expect(rules.at(-1)).toEqual({ ports: [{ port: 3128 }], to: [{ ipBlock: { cidr: '10.9.0.1/32' } }] })
  })

  it('sends webhooks by default to the peers generated from the SSRF table, which include the blocks the review found missing', async () => {
    const peers = egressTo(await policy([]), 443)
    expect(peers).toEqual(webhookPeers())
    const except = (peers ?? []).flatMap((p) => p.ipBlock?.except ?? [])
    for (const cidr of ['0.0.0.0/8', '198.18.0.0/15', '224.0.0.0/4', '10.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fe80::/10']) {
      // fc00::/7 and fe80::/10 lie outside 2000::/3, the only IPv6 block allowed.
      if (cidr.includes(':')) expect(allowed(peers ?? [], cidr.split('/')[0] as string), cidr).toBe(false)
      else expect(except, cidr).toContain(cidr)
    }
  })
})

describe('files/webhook-peers.yaml', () => {
  it('is what deploy/helm/webhook-peers.mjs generates from the SSRF table (node deploy/helm/webhook-peers.mjs)', () => {
    expect(readFileSync(peersFile, 'utf8')).toBe(peersText())
  })

  it('allows exactly the addresses the dispatcher allows, at the edges of every block of the table (the IPv4-mapped form aside: it travels as IPv4)', () => {
    const peers = webhookPeers() as Peer[]
    const probes = new Set<string>()
    for (const block of [...IPV4_SPECIAL_PURPOSE_BLOCKS, ...IPV6_SPECIAL_PURPOSE_BLOCKS]) {
      const { family, base, prefix } = parseCidr(block.cidr)
      const bits = family === 4 ? 32 : 128
      const last = base + (1n << BigInt(bits - prefix)) - 1n
      for (const n of [base - 1n, base, last, last + 1n]) {
        if (n < 0n || n >= 1n << BigInt(bits)) continue
        probes.add(format(family, n))
        // And the same IPv4 address through NAT64's well-known prefix.
        if (family === 4) probes.add(format(6, (0x64ff9bn << 96n) | n))
      }
    }
    const mapped = parseCidr('::ffff:0:0/96')
    const disagreements = [...probes].filter((ip) => {
      const { family, base } = parseCidr(`${ip}/${ip.includes(':') ? 128 : 32}`)
      if (family === 6 && (base >> 32n) === (mapped.base >> 32n)) return false
      return allowed(peers, ip) !== classifyAddress(ip).allowed
    })
    expect(probes.size).toBeGreaterThan(200)
    expect(disagreements).toEqual([])
  })
})

function format (family: 4 | 6, n: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.')
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':')
}

function within (cidr: string, ip: string): boolean {
  const block = parseCidr(cidr)
  const address = parseCidr(`${ip}/${ip.includes(':') ? 128 : 32}`)
  if (block.family !== address.family) return false
  const shift = BigInt((block.family === 4 ? 32 : 128) - block.prefix)
  return (block.base >> shift) === (address.base >> shift)
}

/** Whether NetworkPolicy peers let a packet to `ip` through. */
function allowed (peers: Peer[], ip: string): boolean {
  return peers.some((p) => p.ipBlock !== undefined && within(p.ipBlock.cidr, ip) && !(p.ipBlock.except ?? []).some((e) => within(e, ip)))
}
