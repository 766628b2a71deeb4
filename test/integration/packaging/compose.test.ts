// deploy/compose/docker-compose.yml, read as YAML (no Docker engine runs
// here): the dispatcher's environment is one the dispatcher accepts and names
// only its own variables, the demo receiver verifies with the secret the
// subscriptions sign with, and Prometheus and Grafana load the files of deploy/.
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadDemoReceiverConfig } from '../../../services/demo-receiver/src/config.js'
import { readSubscriptionsFile } from '../../../services/dispatcher/src/cli/import-subscriptions.js'
import { configOptions, loadConfig } from '../../../services/dispatcher/src/config.js'
import { classifyAddress, createSsrfPolicy } from '../../../services/dispatcher/src/delivery/ssrf/address-policy.js'
import { prometheusBinaries, runTool } from '../observability/prometheus.js'
import { repoRoot } from './paths.js'

interface Service {
  image?: string
  build?: { context: string, dockerfile: string }
  command?: string[]
  environment?: Record<string, string | number>
  volumes?: string[]
  ports?: string[]
  network_mode?: string
  networks?: Record<string, { aliases?: string[], ipv4_address?: string } | null>
  entrypoint?: string[]
  user?: string
  read_only?: boolean
  cap_drop?: string[]
}

const composeDir = join(repoRoot, 'deploy/compose')
const compose = parse(readFileSync(join(composeDir, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> }
const versions = Object.fromEntries(readFileSync(join(repoRoot, 'deploy/local/versions.env'), 'utf8').split('\n')
  .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=') as [string, string]))

/** Compose's "${NAME:-default}" with nothing set in the environment. */
const interpolate = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
function environment (service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]))
}
function service (name: string): Service {
  const found = compose.services[name]
  if (found === undefined) throw new Error(`no service ${name}`)
  return found
}
/** "source:target[:ro]" bind mounts with a relative source, resolved. */
function binds (s: Service): Array<{ source: string, target: string }> {
  return (s.volumes ?? []).filter((v) => v.startsWith('.')).map((v) => {
    const [source = '', target = ''] = v.split(':')
    return { source: join(composeDir, source), target }
  })
}

const dispatcherEnv = environment(service('dispatcher'))
const config = loadConfig(dispatcherEnv)

describe('docker-compose.yml', () => {
  it('runs Kafka, the registry, the dispatcher, the demo receiver, Prometheus and Grafana, at the local stack\'s versions', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['kafka', 'registry', 'dispatcher', 'demo-receiver', 'prometheus', 'grafana']))
    expect(service('kafka').image).toBe(`apache/kafka:${versions.KAFKA_VERSION}`)
    expect(service('registry').image).toBe(`apicurio/apicurio-registry:${versions.APICURIO_VERSION}`)
  })

  it('builds the dispatcher, demo receiver and simulator from the repository\'s Dockerfile, as one image', () => {
    const built = Object.values(compose.services).filter((s) => s.build !== undefined)
    expect(built.length).toBeGreaterThanOrEqual(2)
    for (const s of built) {
      expect(join(composeDir, s.build?.context ?? '')).toBe(join(repoRoot))
      expect(existsSync(join(repoRoot, s.build?.dockerfile ?? ''))).toBe(true)
      expect(s.image).toBe(service('dispatcher').image)
      // Whatever it runs is part of the build (also behind a shell: the dispatcher's command).
      const script = /dist\/\S+\.js/.exec((s.command ?? []).join(' '))?.[0] ?? 'dist/services/dispatcher/src/main.js'
      expect(existsSync(join(repoRoot, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), script).toBe(true)
    }
    expect(service('demo-receiver').command?.slice(0, 2)).toEqual(['node', 'dist/services/demo-receiver/src/main.js'])
  })

  it('gives the dispatcher only variables from its config schema, every required one, and values it accepts', () => {
    const variables = configOptions.map((o) => o.variable as string)
    expect(Object.keys(dispatcherEnv).filter((name) => !variables.includes(name))).toEqual([])
    for (const option of configOptions.filter((o) => o.defaultValue === undefined)) expect(dispatcherEnv[option.variable], option.variable).toBeTruthy()
    expect(config.kafkaBrokers).toEqual(['kafka:9092'])
    expect(config.schemaRegistryUrl).toBe('http://registry:8080/apis/ccompat/v7')
    expect(config.topicReplicationFactor).toBe(1)
  })

  it('runs the dispatcher hardened as in the chart', () => {
    const dispatcher = service('dispatcher')
    expect(dispatcher.user).toBe('10001:10001')
    expect(dispatcher.read_only).toBe(true)
    expect(dispatcher.cap_drop).toEqual(['ALL'])
  })

  it('delivers to the demo receiver with the secret it verifies, over a network of the receiver\'s own', () => {
    const receiver = service('demo-receiver')
    const receiverConfig = loadDemoReceiverConfig(environment(receiver))
    const ssrf = createSsrfPolicy({ allowCidrs: config.ssrfAllowCidrs, allowHttp: config.allowHttp })
    if (config.subscriptionsFile === undefined) throw new Error('the dispatcher imports no subscriptions file')
    const mount = binds(service('dispatcher')).find((b) => b.target === config.subscriptionsFile)
    expect(mount, 'SUBSCRIPTIONS_FILE is mounted').toBeDefined()
    const subscriptions = readSubscriptionsFile(mount?.source ?? '', ssrf)
    expect(subscriptions.length).toBeGreaterThan(0)
    for (const subscription of subscriptions) {
      expect(new URL(subscription.url).port).toBe(String(receiverConfig.port))
      expect(new URL(subscription.url).hostname).toBe('demo-receiver')
      expect(subscription.secrets).toContain(receiverConfig.secret)
    }
    // The receiver has a network of its own at a fixed address, and listens there.
    expect(receiverConfig.host).toBe('0.0.0.0')
    expect(Object.keys(receiver.networks ?? {})).toEqual(['receivers'])
    expect(Object.keys(service('dispatcher').networks ?? {}).sort()).toEqual(['default', 'receivers'])
    expect(service('dispatcher').network_mode).toBeUndefined()
    const published = (service('dispatcher').ports ?? []).map((p) => interpolate(p).split(':').at(-1))
    expect(published.sort()).toEqual([String(config.adminPort), String(config.httpPort)].sort())
    expect(receiver.ports ?? []).toEqual([])
    expect(config.adminHost).toBe('0.0.0.0')
  })

  it('opens the receiver\'s one address to the SSRF guard, not the dispatcher\'s own loopback or networks', () => {
    const receiverIp = interpolate(service('demo-receiver').networks?.receivers?.ipv4_address ?? '')
    expect(config.ssrfAllowCidrs).toEqual([`${receiverIp}/32`])
    const subnet = interpolate((compose as unknown as { networks: { receivers: { ipam: { config: Array<{ subnet: string }> } } } }).networks.receivers.ipam.config[0]?.subnet ?? '')
    expect(subnet).toMatch(/\/24$/)
    const ssrf = createSsrfPolicy({ allowCidrs: config.ssrfAllowCidrs, allowHttp: config.allowHttp })
    expect(classifyAddress(receiverIp, ssrf).allowed).toBe(true)
    // The dispatcher's own admin API and metrics on loopback, and its neighbours on the receivers network.
    for (const address of ['127.0.0.1', '::1', subnet.replace(/0\/24$/, '1'), subnet.replace(/0\/24$/, '11'), '10.0.0.1', '172.17.0.1']) {
      expect(classifyAddress(address, ssrf).allowed, address).toBe(false)
    }
  })

  it('generates the operator token at the first start instead of shipping one', () => {
    const text = readFileSync(join(composeDir, 'docker-compose.yml'), 'utf8')
    expect(text).not.toMatch(/demo-admin-token|change-me/)
    expect(dispatcherEnv.ADMIN_TOKENS).toBeUndefined()
    const generator = service('admin-token')
    const script = (generator.command ?? []).join('\n')
    expect(script).toContain('/dev/urandom')
    // 24 bytes as 48 hex digits: 64 would be read as a SHA-256 by ADMIN_TOKENS.
    expect(script).toContain('-N24')
    const tokenFile = /f=(\S+)/.exec(script)?.[1] ?? ''
    expect(tokenFile).toMatch(/^\/run\//)
    const volumeOf = (s: Service, mode: string): string | undefined =>
      (s.volumes ?? []).find((v) => v.split(':')[1] === tokenFile.slice(0, tokenFile.lastIndexOf('/')) && (v.split(':')[2] ?? 'rw') === mode)?.split(':')[0]
    expect(volumeOf(generator, 'rw')).toBe('admin-token')
    expect(volumeOf(service('dispatcher'), 'ro')).toBe('admin-token')
    // The dispatcher makes it an operator token before it starts.
    expect((service('dispatcher').command ?? []).join(' ')).toContain(`ADMIN_TOKENS="$$(cat ${tokenFile}):*"`)
    expect(generator.network_mode).toBe('none')
  })

  it('has Prometheus scrape the dispatcher as the job the alert rules select, with those rules loaded', () => {
    const prometheus = service('prometheus')
    const mounts = binds(prometheus)
    const configMount = mounts.find((m) => m.target === '/etc/prometheus/prometheus.yml')
    const prometheusConfig = parse(readFileSync(configMount?.source ?? '', 'utf8')) as { rule_files: string[], scrape_configs: Array<{ job_name: string, static_configs: Array<{ targets: string[] }> }> }
    const job = prometheusConfig.scrape_configs.find((c) => c.job_name === 'webhook-dispatcher')
    expect(job?.static_configs[0]?.targets).toEqual([`dispatcher:${config.httpPort}`])
    const rulesMount = mounts.find((m) => prometheusConfig.rule_files.includes(m.target))
    expect(rulesMount?.source).toBe(join(repoRoot, 'deploy/prometheus/webhook-dispatcher-rules.yml'))
    expect(readFileSync(rulesMount?.source ?? '', 'utf8')).toContain('job="webhook-dispatcher"')
  })

  it('gives Prometheus a configuration promtool accepts, rules included', async () => {
    const { promtool } = await prometheusBinaries()
    const mounts = binds(service('prometheus'))
    const configMount = mounts.find((m) => m.target === '/etc/prometheus/prometheus.yml')
    // Point the container paths at the files they are mounted from.
    let text = readFileSync(configMount?.source ?? '', 'utf8')
    for (const mount of mounts) text = text.replaceAll(mount.target, mount.source)
    const dir = await mkdtemp(join(tmpdir(), 'whd-compose-prometheus-'))
    try {
      await writeFile(join(dir, 'prometheus.yml'), text)
      const result = await runTool(promtool, ['check', 'config', join(dir, 'prometheus.yml')])
      expect(result.code, result.output).toBe(0)
      expect(result.output).toMatch(/SUCCESS: \d+ rules found/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('has Grafana provision the dashboards of deploy/grafana with Prometheus as the data source', () => {
    const grafana = service('grafana')
    const mounts = binds(grafana)
    const provisioning = mounts.find((m) => m.target === '/etc/grafana/provisioning')?.source ?? ''
    const providers = parse(readFileSync(join(provisioning, 'dashboards/webhooks.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> }
    const dashboards = mounts.find((m) => m.target === providers.providers[0]?.options.path)
    expect(dashboards?.source).toBe(join(repoRoot, 'deploy/grafana'))
    const datasources = parse(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ type: string, url: string }> }
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' })
  })

  it('mounts only files that exist', () => {
    const all = Object.values(compose.services).flatMap(binds)
    expect(all.length).toBeGreaterThan(3)
    for (const bind of all) expect(existsSync(bind.source), bind.source).toBe(true)
  })
})
