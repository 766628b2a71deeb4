// The Helm chart, rendered with `helm template` and checked as parsed
// Kubernetes objects: lint, security context, probes and ports, the
// environment against the dispatcher's config schema, checksums, autoscaling
// limits, and what values.schema.json rejects.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { configOptions, loadConfig } from '../../../services/dispatcher/src/config.js'
import { mainHeapLimitMib } from '../../../services/dispatcher/src/memory/heap-limits.js'
import { byKind, chartDir, ciValues, helm, one, render, renderError, type Manifest } from './helm.js'

/**
 * Variables the chart sets that config.ts does not read yet: Kafka TLS and
 * SASL. The dispatcher must add them (see the chart README, "Kafka TLS and SASL").
 */
const NEW_KAFKA_VARIABLES = ['KAFKA_SSL', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']
/** Node's own variables the chart may set (a private Kafka CA; the heap limit from the memory limit). */
const NODE_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS']
const configVariables = configOptions.map((o) => o.variable as string)
const requiredVariables = configOptions.filter((o) => o.defaultValue === undefined).map((o) => o.variable as string)
/** Where the chart deliberately differs from the dispatcher's default, and why. */
const deliberateDefaults: Record<string, string> = {
  // In a pod the Service must reach the admin API; the dispatcher's own default is loopback.
  ADMIN_HOST: '0.0.0.0',
  // The SQLite history index lives on a volume of its own (the root filesystem is read-only).
  HISTORY_SQLITE_PATH: '/var/lib/webhook-dispatcher/history/history.sqlite'
}

const cases = Object.entries(ciValues).map(([name, file]) => ({ name, file, values: parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>> }))

function deployment (manifests: Manifest[]): Manifest {
  return one(manifests, 'Deployment')
}

function dispatcherContainer (manifests: Manifest[]): Manifest {
  const containers = deployment(manifests).spec.template.spec.containers as Manifest[]
  expect(containers).toHaveLength(1)
  return containers[0] as Manifest
}

/** The ConfigMap the Deployment loads with envFrom. */
function envConfigMap (manifests: Manifest[]): Record<string, string> {
  const container = dispatcherContainer(manifests)
  const refs = (container.envFrom as Array<{ configMapRef?: { name: string } }>).map((e) => e.configMapRef?.name)
  expect(refs).toHaveLength(1)
  return one(byKind(manifests, 'ConfigMap').filter((c) => c.metadata.name === refs[0]), 'ConfigMap').data as Record<string, string>
}

interface EnvVar { name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, key: string, optional?: boolean } } }

function explicitEnv (manifests: Manifest[]): EnvVar[] {
  return (dispatcherContainer(manifests).env ?? []) as EnvVar[]
}

/** Every variable name the container gets from the chart. */
function envNames (manifests: Manifest[]): string[] {
  return [...Object.keys(envConfigMap(manifests)), ...explicitEnv(manifests).map((e) => e.name)]
}

/**
 * The environment the container would see: the ConfigMap, the explicit env,
 * and secret references resolved from the chart's Secret (or `external` for
 * an existing Secret).
 */
function containerEnvironment (manifests: Manifest[], external: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...envConfigMap(manifests) }
  const secrets = new Map(byKind(manifests, 'Secret').map((s) => [s.metadata.name, s.stringData as Record<string, string>]))
  for (const e of explicitEnv(manifests)) {
    if (e.value !== undefined) env[e.name] = e.value
    const ref = e.valueFrom?.secretKeyRef
    if (ref === undefined) continue
    const value = secrets.get(ref.name)?.[ref.key] ?? external[ref.key]
    if (value !== undefined) env[e.name] = value
    else if (ref.optional !== true) throw new Error(`${e.name}: key ${ref.key} of Secret ${ref.name} is not there`)
  }
  return env
}

describe('helm lint', () => {
  it.each([['default values', []], ...cases.map((c) => [c.name, ['-f', c.file]])])('passes --strict with %s', async (_name, args) => {
    const result = await helm(['lint', '--strict', chartDir, ...(args as string[])])
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain('0 chart(s) failed')
  })
})

describe('helm template', () => {
  it('refuses the default values, naming the three values without a safe default', async () => {
    const error = await renderError({})
    expect(error).toContain('kafka.brokers is required')
    expect(error).toContain('schemaRegistry.url is required')
    expect(error).toContain('secrets.encryptionKeys (or secrets.existingSecret) is required')
  })

  describe.each(cases)('with ci/$name-values.yaml', ({ file, values }) => {
    let manifests: Manifest[] = []
    beforeAll(async () => { manifests = await render({ values: [file] }) })
    // An existing Secret is outside the chart: give its keys values the dispatcher accepts.
    const external = {
      'encryption-keys': `ext:${Buffer.alloc(32, 7).toString('base64')}`,
      'admin-tokens': `${'a'.repeat(64)}:*`,
      'kafka-username': 'user',
      'kafka-password': 'password'
    }

    it('runs every container non-root with a read-only root filesystem, no privilege escalation, no capabilities, seccomp RuntimeDefault', async () => {
      const deploy = deployment(manifests)
      const pod = deploy.spec.template.spec
      expect(pod.securityContext.runAsNonRoot).toBe(true)
      expect(pod.securityContext.runAsUser).toBe(10001)
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' })
      expect(pod.automountServiceAccountToken).toBe(false)
      const containers = [...pod.containers, ...(pod.initContainers ?? [])] as Manifest[]
      for (const container of containers) {
        const sc = container.securityContext
        expect(sc.runAsNonRoot, container.name).toBe(true)
        expect(sc.readOnlyRootFilesystem, container.name).toBe(true)
        expect(sc.allowPrivilegeEscalation, container.name).toBe(false)
        expect(sc.privileged ?? false, container.name).toBe(false)
        expect(sc.capabilities.drop, container.name).toContain('ALL')
        expect(sc.capabilities.add ?? [], container.name).toEqual([])
        expect(sc.seccompProfile ?? pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' })
        // The only writable path.
        const tmp = (container.volumeMounts as Array<{ name: string, mountPath: string }>).find((m) => m.mountPath === '/tmp')
        expect(tmp, `${container.name} mounts /tmp`).toBeDefined()
        const volume = (pod.volumes as Array<{ name: string, emptyDir?: unknown }>).find((v) => v.name === tmp?.name)
        expect(volume?.emptyDir).toBeDefined()
      }
    })

    it('probes /startupz (start-up: first join), /healthz (liveness) and /readyz (readiness) on HTTP_PORT, and exposes ADMIN_PORT', async () => {
      const rendered = manifests
      const container = dispatcherContainer(rendered)
      const env = envConfigMap(rendered)
      const ports = Object.fromEntries((container.ports as Array<{ name: string, containerPort: number }>).map((p) => [p.name, p.containerPort]))
      expect(ports).toEqual({ admin: Number(env.ADMIN_PORT), metrics: Number(env.HTTP_PORT) })
      expect(container.startupProbe.httpGet).toEqual({ path: '/startupz', port: 'metrics' })
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' })
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' })
      // The health server must listen on all interfaces for the kubelet to reach it.
      expect(env.HTTP_HOST).toBe('0.0.0.0')
      expect(env.ADMIN_HOST).toBe('0.0.0.0')
      const service = one(rendered, 'Service')
      expect((service.spec.ports as Array<{ targetPort: string }>).map((p) => p.targetPort).sort()).toEqual(['admin', 'metrics'])
      expect(container.resources.requests).toBeDefined()
    })

    it('sets only variables the dispatcher reads (or the documented new Kafka TLS/SASL ones), and every one of them', async () => {
      const names = envNames(manifests)
      const extra = ((values.extraEnv ?? []) as unknown as Array<{ name: string }>).map((e) => e.name)
      const unknown = names.filter((n) => !configVariables.includes(n) && !NEW_KAFKA_VARIABLES.includes(n) && !NODE_VARIABLES.includes(n) && !extra.includes(n))
      expect(unknown).toEqual([])
      expect(new Set(names).size).toBe(names.length)
      // All of them, defaults included: a new option in config.ts fails here until the chart sets it.
      // (SASL variables are set only when SASL is on, also once config.ts reads them.)
      expect(configVariables.filter((v) => !names.includes(v) && !NEW_KAFKA_VARIABLES.includes(v))).toEqual([])
      for (const variable of requiredVariables) expect(names).toContain(variable)
    })

    it('gives the dispatcher a configuration it accepts', async () => {
      const env = containerEnvironment(manifests, external)
      expect(() => loadConfig(env)).not.toThrow()
      for (const variable of requiredVariables) expect(env[variable], variable).toBeTruthy()
    })

    it('keeps secrets out of the ConfigMap', async () => {
      const rendered = manifests
      const env = envConfigMap(rendered)
      for (const variable of ['SECRETS_ENCRYPTION_KEYS', 'ADMIN_TOKENS', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'METRICS_TOKEN', 'HISTORY_POSTGRES_URL', 'PORTAL_SESSION_KEY']) {
        expect(env[variable], variable).toBeUndefined()
      }
      const secretRefs = explicitEnv(rendered).filter((e) => e.valueFrom?.secretKeyRef !== undefined).map((e) => e.name).sort()
      const sasl = (values.kafka?.sasl as { enabled?: boolean } | undefined)?.enabled === true
      expect(secretRefs).toEqual(['ADMIN_TOKENS', 'HISTORY_POSTGRES_URL', ...(sasl ? ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME'] : []), 'METRICS_TOKEN', 'PORTAL_SESSION_KEY', 'SECRETS_ENCRYPTION_KEYS'])
      const existing = (values.secrets?.existingSecret as string | undefined) ?? ''
      expect(byKind(rendered, 'Secret')).toHaveLength(existing === '' ? 1 : 0)
      if (existing !== '') {
        for (const e of explicitEnv(rendered)) if (e.valueFrom?.secretKeyRef !== undefined) expect(e.valueFrom.secretKeyRef.name).toBe(existing)
      }
    })

    it('gives pods longer than SHUTDOWN_DEADLINE_MS to drain', async () => {
      const rendered = manifests
      const grace = deployment(rendered).spec.template.spec.terminationGracePeriodSeconds as number
      expect(grace * 1000).toBeGreaterThan(Number(envConfigMap(rendered).SHUTDOWN_DEADLINE_MS))
    })

    it('selects pods by the immutable selector labels only', async () => {
      const rendered = manifests
      const deploy = deployment(rendered)
      const selector = deploy.spec.selector.matchLabels as Record<string, string>
      expect(Object.keys(selector).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name'])
      expect(deploy.spec.template.metadata.labels).toMatchObject(selector)
      expect(one(rendered, 'Service').spec.selector).toEqual(selector)
      for (const constraint of deploy.spec.template.spec.topologySpreadConstraints as Array<{ labelSelector: { matchLabels: unknown } }>) {
        expect(constraint.labelSelector.matchLabels).toEqual(selector)
      }
      const pdb = byKind(rendered, 'PodDisruptionBudget')
      for (const p of pdb) expect(p.spec.selector.matchLabels).toEqual(selector)
      for (const m of rendered) expect(m.metadata.labels?.['app.kubernetes.io/managed-by'], `${m.kind} labels`).toBe('Helm')
    })
  })
})

describe('defaults', () => {
  it('are the dispatcher\'s defaults, except where the chart documents why', async () => {
    const env = envConfigMap(await render({ values: [ciValues.minimal] }))
    for (const option of configOptions) {
      if (option.defaultValue === undefined || env[option.variable] === undefined) continue
      expect(env[option.variable], option.variable).toBe(deliberateDefaults[option.variable] ?? option.defaultValue)
    }
    expect(env.KAFKA_SSL).toBe('false')
    expect(env.KAFKA_SASL_MECHANISM).toBeUndefined()
  })

  it('pass Kafka TLS and SASL settings as the new variables', async () => {
    const rendered = await render({ values: [ciValues.full] })
    const env = containerEnvironment(rendered)
    expect(env).toMatchObject({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'webhook-dispatcher', KAFKA_SASL_PASSWORD: 'not-a-real-password' })
    // The private CA for Kafka only: NODE_EXTRA_CA_CERTS would trust it for webhook endpoints too.
    expect(env.NODE_EXTRA_CA_CERTS).toBeUndefined()
    expect(env).toMatchObject({ KAFKA_SSL_CA_FILE: '/etc/webhook-dispatcher/kafka-ca/ca.crt', KAFKA_SSL_CERT_FILE: '/etc/webhook-dispatcher/kafka-client/tls.crt', KAFKA_SSL_KEY_FILE: '/etc/webhook-dispatcher/kafka-client/tls.key' })
    const mounts = dispatcherContainer(rendered).volumeMounts as Array<{ mountPath: string }>
    expect(mounts.map((m) => m.mountPath)).toContain('/etc/webhook-dispatcher/kafka-ca')
    expect(mounts.map((m) => m.mountPath)).toContain('/etc/webhook-dispatcher/kafka-client')
    expect(env.SUBSCRIPTIONS_FILE).toBe('/etc/webhook-dispatcher/subscriptions/subscriptions.json')
  })

  it('refuses SASL PLAIN without TLS', async () => {
    const error = await renderError({ values: [ciValues.minimal], set: ['kafka.sasl.enabled=true', 'kafka.sasl.mechanism=plain', 'kafka.sasl.username=u', 'kafka.sasl.password=p'] })
    expect(error).toContain('kafka.sasl.mechanism plain sends the password in clear text')
  })

  it('refuses SCRAM without TLS too, unless kafka.sasl.allowPlaintext, which the dispatcher then accepts', async () => {
    const sasl = ['kafka.sasl.enabled=true', 'kafka.sasl.mechanism=scram-sha-512', 'kafka.sasl.username=u', 'kafka.sasl.password=p']
    expect(await renderError({ values: [ciValues.minimal], set: sasl })).toContain('kafka.sasl.mechanism scram-sha-512 without kafka.tls')
    const env = containerEnvironment(await render({ values: [ciValues.minimal], set: [...sasl, 'kafka.sasl.allowPlaintext=true'] }))
    expect(env).toMatchObject({ KAFKA_SSL: 'false', KAFKA_ALLOW_PLAINTEXT_SASL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512' })
    expect(() => loadConfig(env)).not.toThrow()
    expect(() => loadConfig({ ...env, KAFKA_ALLOW_PLAINTEXT_SASL: 'false' })).toThrow(/KAFKA_SASL_MECHANISM.*KAFKA_SSL/)
  })
})

describe('METRICS_TOKEN', () => {
  const token = 'metrics-token-0123456789'

  it('is absent by default (/metrics open), and from the chart\'s Secret when metrics.token is set, which the ServiceMonitor then sends', async () => {
    expect(containerEnvironment(await render({ values: [ciValues.minimal] })).METRICS_TOKEN).toBeUndefined()
    const rendered = await render({ values: [ciValues.minimal], set: [`metrics.token=${token}`, 'serviceMonitor.enabled=true'] })
    const env = containerEnvironment(rendered)
    expect(env.METRICS_TOKEN).toBe(token)
    expect(loadConfig(env).metricsToken).toBe(token)
    expect(envConfigMap(rendered).METRICS_TOKEN).toBeUndefined()
    const endpoint = (one(rendered, 'ServiceMonitor').spec.endpoints as Array<{ authorization?: { type: string, credentials: { name: string, key: string } } }>)[0]
    const ref = explicitEnv(rendered).find((e) => e.name === 'METRICS_TOKEN')?.valueFrom?.secretKeyRef
    expect(endpoint?.authorization).toEqual({ type: 'Bearer', credentials: { name: ref?.name, key: ref?.key } })
    expect((one(await render({ values: [ciValues.minimal], set: ['serviceMonitor.enabled=true'] }), 'ServiceMonitor').spec.endpoints as Array<{ authorization?: unknown }>)[0]?.authorization).toBeUndefined()
  })

  it('refuses a token the dispatcher would refuse', async () => {
    expect(await renderError({ values: [ciValues.minimal], set: ['metrics.token=short'] })).toContain("at '/metrics/token'")
  })
})

describe('NODE_OPTIONS (the main thread\'s heap limit)', () => {
  const nodeOptions = async (set: string[], values = [ciValues.minimal]): Promise<string[]> =>
    explicitEnv(await render({ values, set })).filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value ?? '')

  it('is 3/8 of resources.limits.memory, as memory/heap-limits.ts computes it, in every unit Kubernetes takes', async () => {
    expect(await nodeOptions([])).toEqual([`--max-old-space-size=${mainHeapLimitMib(1536)}`])
    expect(await nodeOptions(['resources.limits.memory=512Mi'])).toEqual(['--max-old-space-size=192'])
    expect(await nodeOptions(['resources.limits.memory=2Gi'])).toEqual([`--max-old-space-size=${mainHeapLimitMib(2048)}`])
    expect(await nodeOptions(['resources.limits.memory=1000M'])).toEqual([`--max-old-space-size=${mainHeapLimitMib(Math.floor(1000e6 / 2 ** 20))}`])
    expect(await nodeOptions(['resources.limits.memory=1073741824'])).toEqual([`--max-old-space-size=${mainHeapLimitMib(1024)}`])
    expect(await nodeOptions(['resources.limits.memory=1.5Gi'])).toEqual([`--max-old-space-size=${mainHeapLimitMib(1536)}`])
    expect(await nodeOptions(['resources.limits.memory=1e9'])).toEqual([`--max-old-space-size=${mainHeapLimitMib(Math.floor(1e9 / 2 ** 20))}`])
  })

  it('is not set without a memory limit, and gives way to NODE_OPTIONS in extraEnv', async () => {
    expect(await nodeOptions(['resources.limits=null'])).toEqual([])
    expect(await nodeOptions(['extraEnv[0].name=NODE_OPTIONS', 'extraEnv[0].value=--max-old-space-size=300'])).toEqual(['--max-old-space-size=300'])
  })
})

describe('USER_AGENT_VERSION', () => {
  it('is true by default and follows delivery.userAgentVersion', async () => {
    expect(envConfigMap(await render({ values: [ciValues.minimal] })).USER_AGENT_VERSION).toBe('true')
    const env = containerEnvironment(await render({ values: [ciValues.minimal], set: ['delivery.userAgentVersion=false'] }))
    expect(loadConfig(env).userAgentVersion).toBe(false)
  })
})

describe('checksum/config', () => {
  const annotations = async (set: string[]): Promise<Record<string, string>> =>
    deployment(await render({ values: [ciValues.minimal], set })).spec.template.metadata.annotations as Record<string, string>

  it('changes when a setting changes, and only then', async () => {
    const base = await annotations([])
    const changedSetting = await annotations(['logLevel=debug'])
    const unrelated = await annotations(['replicaCount=3'])
    const changedSecret = await annotations([`secrets.encryptionKeys=other:${Buffer.alloc(32, 1).toString('base64')}`])
    expect(base['checksum/config']).toMatch(/^[0-9a-f]{64}$/)
    expect(changedSetting['checksum/config']).not.toBe(base['checksum/config'])
    expect(unrelated['checksum/config']).toBe(base['checksum/config'])
    expect(changedSecret['checksum/config']).toBe(base['checksum/config'])
    expect(changedSecret['checksum/secret']).not.toBe(base['checksum/secret'])
  })
})

describe('terminationGracePeriodSeconds', () => {
  it('may not be shorter than SHUTDOWN_DEADLINE_MS plus the final commit', async () => {
    const error = await renderError({ values: [ciValues.minimal], set: ['terminationGracePeriodSeconds=20'] })
    expect(error).toContain('terminationGracePeriodSeconds (20) must be at least engine.shutdownDeadlineMs + 5 s (25 s)')
  })
})

describe('autoscaling', () => {
  const partitions = (cases.find((c) => c.name === 'full')?.values.kafka?.partitions ?? 0) as number

  it('KEDA scales on the group\'s lag summed over all source topics, within the partitions', async () => {
    const rendered = await render({ values: [ciValues.full] })
    const scaled = one(rendered, 'ScaledObject')
    const env = containerEnvironment(rendered)
    expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(partitions)
    expect(scaled.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment(rendered).metadata.name })
    const triggers = scaled.spec.triggers as Array<{ type: string, metadata: Record<string, string>, authenticationRef?: { name: string } }>
    // One trigger over every source topic: KEDA's apache-kafka scaler sums their lag.
    expect(triggers.map((t) => t.metadata.topic)).toEqual([env.SOURCE_TOPICS])
    expect(env.SOURCE_TOPICS?.split(',').length).toBeGreaterThan(1)
    for (const trigger of triggers) {
      expect(trigger.type).toBe('apache-kafka')
      expect(trigger.metadata).toMatchObject({ bootstrapServers: env.KAFKA_BROKERS, consumerGroup: env.KAFKA_GROUP_ID, sasl: 'scram_sha512', tls: 'enable' })
      expect(trigger.authenticationRef?.name).toBe(one(rendered, 'TriggerAuthentication').metadata.name)
    }
    const auth = one(rendered, 'TriggerAuthentication').spec.secretTargetRef as Array<{ parameter: string }>
    expect(auth.map((r) => r.parameter).sort()).toEqual(['ca', 'cert', 'key', 'password', 'username'])
    // KEDA owns the replica count.
    expect(deployment(rendered).spec.replicas).toBeUndefined()
    expect(byKind(rendered, 'HorizontalPodAutoscaler')).toHaveLength(0)
  })

  it('refuses a KEDA maximum above the partitions', async () => {
    const error = await renderError({ values: [ciValues.full], set: [`keda.maxReplicaCount=${partitions + 1}`] })
    expect(error).toContain(`keda.maxReplicaCount (${partitions + 1}) exceeds kafka.partitions (${partitions})`)
  })

  it('refuses an HPA maximum above the partitions, and HPA together with KEDA', async () => {
    expect(await renderError({ values: [ciValues.minimal], set: ['autoscaling.enabled=true', 'kafka.partitions=4', 'autoscaling.maxReplicas=5'] }))
      .toContain('autoscaling.maxReplicas (5) exceeds kafka.partitions (4)')
    expect(await renderError({ values: [ciValues.full], set: ['autoscaling.enabled=true'] })).toContain('autoscaling.enabled and keda.enabled are exclusive')
  })

  it('HPA scales on CPU and owns the replica count', async () => {
    const rendered = await render({ values: [ciValues.minimal], set: ['autoscaling.enabled=true'] })
    const hpa = one(rendered, 'HorizontalPodAutoscaler')
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu')
    expect(deployment(rendered).spec.replicas).toBeUndefined()
  })
})

describe('NetworkPolicy', () => {
  it('allows egress only to DNS, the Kafka and registry ports, and HTTPS', async () => {
    const rendered = await render({ values: [ciValues.full] })
    const policy = one(rendered, 'NetworkPolicy')
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress'])
    const egress = (policy.spec.egress as Array<{ ports: Array<{ port: number, protocol: string }> }>).flatMap((rule) => rule.ports.map((p) => `${p.protocol}/${p.port}`))
    // Brokers on 9096, the registry on https (443), DNS, webhooks on 443 and 8443.
    expect([...new Set(egress)].sort()).toEqual(['TCP/443', 'TCP/53', 'TCP/8443', 'TCP/9096', 'UDP/53'])
    const ingress = (policy.spec.ingress as Array<{ ports: Array<{ port: string }> }>).flatMap((rule) => rule.ports.map((p) => p.port))
    expect(ingress.sort()).toEqual(['admin', 'metrics'])
  })
})

describe('the admin port\'s NetworkPolicy (issue 13 item 9)', () => {
  interface Rule { ports: Array<{ port: string }>, from?: unknown[] }
  const ingressOf = (policy: Manifest): Record<string, unknown[] | undefined> =>
    Object.fromEntries((policy.spec.ingress as Rule[]).map((rule) => [rule.ports.map((p) => p.port).join(','), rule.from]))
  const adminClients = [{ podSelector: { matchLabels: { 'webhook-dispatcher-admin-client': 'true' } } }]

  it('is on by default: ingress only, the admin port from labelled pods of the release namespace, the metrics port open', async () => {
    const policy = one(await render({ values: [ciValues.minimal] }), 'NetworkPolicy')
    expect(policy.spec.policyTypes).toEqual(['Ingress'])
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment(await render({ values: [ciValues.minimal] })).spec.selector.matchLabels)
    expect(ingressOf(policy)).toEqual({ admin: adminClients, metrics: undefined })
  })

  it('takes another namespace and pod selector, or adminFrom as written', async () => {
    const selected = one(await render({ values: [ciValues.minimal], set: ['networkPolicy.admin.namespaceSelector.matchLabels.team=platform', 'networkPolicy.admin.podSelector.matchLabels.role=ops'] }), 'NetworkPolicy')
    expect(ingressOf(selected).admin).toEqual([{ podSelector: { matchLabels: { 'webhook-dispatcher-admin-client': 'true', role: 'ops' } }, namespaceSelector: { matchLabels: { team: 'platform' } } }])
    const explicit = one(await render({ values: [ciValues.minimal], set: ['networkPolicy.adminFrom[0].ipBlock.cidr=10.1.0.0/16'] }), 'NetworkPolicy')
    expect(ingressOf(explicit).admin).toEqual([{ ipBlock: { cidr: '10.1.0.0/16' } }])
  })

  it('gives way to the full policy, which keeps the same admin sources; off, the admin port is open again', async () => {
    const full = one(await render({ values: [ciValues.full] }), 'NetworkPolicy')
    expect(full.spec.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(ingressOf(full).admin).toEqual(adminClients)
    expect(byKind(await render({ values: [ciValues.minimal], set: ['networkPolicy.admin.enabled=false'] }), 'NetworkPolicy')).toHaveLength(0)
  })
})

describe('admin API TLS (issue 13 item 9)', () => {
  it('mounts the kubernetes.io/tls Secret and points ADMIN_TLS_CERT_FILE / ADMIN_TLS_KEY_FILE at it', async () => {
    const rendered = await render({ values: [ciValues.minimal], set: ['admin.tls.secretName=admin-api-cert'] })
    const env = containerEnvironment(rendered)
    expect(env).toMatchObject({ ADMIN_TLS_CERT_FILE: '/etc/webhook-dispatcher/admin-tls/tls.crt', ADMIN_TLS_KEY_FILE: '/etc/webhook-dispatcher/admin-tls/tls.key' })
    const mount = (dispatcherContainer(rendered).volumeMounts as Array<{ name: string, mountPath: string, readOnly?: boolean }>).find((m) => m.mountPath === '/etc/webhook-dispatcher/admin-tls')
    expect(mount?.readOnly).toBe(true)
    const volume = (deployment(rendered).spec.template.spec.volumes as Array<{ name: string, secret?: { secretName: string, items: Array<{ key: string, path: string }> } }>).find((v) => v.name === mount?.name)
    expect(volume?.secret).toEqual({ secretName: 'admin-api-cert', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] })
    expect(loadConfig({ ...env, SECRETS_ENCRYPTION_KEYS: `k:${Buffer.alloc(32, 1).toString('base64')}` }).adminTlsCertFile).toBe('/etc/webhook-dispatcher/admin-tls/tls.crt')
    const plain = containerEnvironment(await render({ values: [ciValues.minimal] }))
    expect([plain.ADMIN_TLS_CERT_FILE, plain.ADMIN_TLS_KEY_FILE]).toEqual(['none', 'none'])
  })
})

describe('names', () => {
  it('are truncated to 63 characters without a trailing dash', async () => {
    // Helm's longest release name; the 63rd character of "<release>-webhooks-…" is a dash.
    const release = `r${'x'.repeat(52)}`
    const rendered = await render({ values: [ciValues.full], release, set: ['nameOverride=webhooks-dispatcher'] })
    for (const m of rendered) {
      expect(m.metadata.name.length, m.kind).toBeLessThanOrEqual(63)
      expect(m.metadata.name.endsWith('-'), m.metadata.name).toBe(false)
    }
    expect(deployment(rendered).metadata.name).toBe(`${release}-webhooks`)
    expect(deployment(rendered).spec.selector.matchLabels['app.kubernetes.io/instance']).toBe(release)
  })
})

describe('values.schema.json', () => {
  it.each([
    ['a negative replica count', ['replicaCount=-1'], "at '/replicaCount'"],
    ['a wrong type', ['replicaCount=two'], "at '/replicaCount'"],
    ['an unknown key', ['replicas=3'], "additional properties 'replicas' not allowed"],
    ['an unknown nested key', ['kafka.tls.verify=false'], "additional properties 'verify' not allowed"],
    ['an unknown SASL mechanism', ['kafka.sasl.mechanism=gssapi'], "at '/kafka/sasl/mechanism'"],
    ['a broker without a port', ['kafka.brokers=kafka'], "at '/kafka/brokers'"],
    ['an out-of-range setting', ['engine.commitIntervalMs=10'], "at '/engine/commitIntervalMs'"],
    ['an unknown log level', ['logLevel=verbose'], "at '/logLevel'"]
  ])('rejects %s', async (_what, set, message) => {
    expect(await renderError({ values: [ciValues.minimal], set })).toContain(message)
  })

  it('accepts every ci values file', async () => {
    for (const { file } of cases) await expect(render({ values: [file] })).resolves.toBeDefined()
  })
})

describe('chart files', () => {
  it('Chart.yaml names the chart and the app version the image is tagged with', () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>
    const pkg = JSON.parse(readFileSync(join(chartDir, '../../../package.json'), 'utf8')) as { version: string }
    expect(chart.name).toBe('webhook-dispatcher')
    expect(chart.apiVersion).toBe('v2')
    expect(chart.appVersion).toBe(pkg.version)
  })
})
