// What well-kept charts (prometheus-community, Bitnami) offer, rendered and
// checked: a helm test hook, common labels and annotations, a namespace
// override, extra volumes/env/containers, lifecycle and DNS settings,
// ServiceMonitor options, Reloader, and the values the chart refuses.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { byKind, chartDir, ciValues, one, render, renderError, type Manifest } from './helm.js'
import { validate } from './kubeconform.js'

const deployment = (manifests: Manifest[]): Manifest => one(manifests, 'Deployment')

describe('helm test', () => {
  it('is a hook pod that checks /readyz and the admin API through the Service, outside the dispatcher\'s selector, as restricted as the dispatcher', async () => {
    const rendered = await render({ values: [ciValues.minimal] })
    const pod = one(rendered, 'Pod')
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test')
    const selector = deployment(rendered).spec.selector.matchLabels as Record<string, string>
    expect(Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v)).toBe(false)
    // The admin NetworkPolicy lets admin clients in by this label.
    expect(pod.metadata.labels?.['webhook-dispatcher-admin-client']).toBe('true')
    const container = pod.spec.containers[0]
    expect(container.image).toBe(deployment(rendered).spec.template.spec.containers[0].image)
    expect(container.securityContext).toEqual(deployment(rendered).spec.template.spec.containers[0].securityContext)
    expect(container.env).toEqual([{ name: 'READYZ_URL', value: 'http://wd-webhook-dispatcher:9464/readyz' }, { name: 'ADMIN_URL', value: 'http://wd-webhook-dispatcher:8080' }])
    expect(container.command.join(' ')).toContain("'/openapi.json', 200]")
    const https = one(await render({ values: [ciValues.minimal], set: ['admin.tls.secretName=admin-tls'] }), 'Pod')
    expect(https.spec.containers[0].env[1].value).toBe('https://wd-webhook-dispatcher:8080')
    expect(byKind(await render({ values: [ciValues.minimal], set: ['tests.enabled=false'] }), 'Pod')).toEqual([])
  })
})

describe('the conventions, all set at once', () => {
  const set = [
    'commonLabels.cost-center=payments', 'commonAnnotations.owner=platform-team', 'namespaceOverride=webhooks',
    'extraVolumes[0].name=certs', 'extraVolumes[0].configMap.name=extra-certs',
    'extraVolumeMounts[0].name=certs', 'extraVolumeMounts[0].mountPath=/etc/extra-certs', 'extraVolumeMounts[0].readOnly=true',
    'extraEnvFrom[0].secretRef.name=otel-env',
    'initContainers[0].name=wait', 'initContainers[0].image=busybox:1.36', 'initContainers[0].command={/bin/true}',
    'sidecars[0].name=shipper', 'sidecars[0].image=fluent-bit:3',
    'lifecycle.preStop.sleep.seconds=5',
    'dnsPolicy=ClusterFirst', 'dnsConfig.options[0].name=single-request-reopen', 'dnsConfig.searches[0]=payments.svc.cluster.local',
    'serviceMonitor.enabled=true', 'serviceMonitor.namespace=monitoring', 'serviceMonitor.relabelings[0].action=labeldrop', 'serviceMonitor.relabelings[0].regex=pod',
    'serviceMonitor.metricRelabelings[0].action=drop', 'serviceMonitor.metricRelabelings[0].sourceLabels[0]=__name__', 'serviceMonitor.metricRelabelings[0].regex=nodejs_.*',
    'serviceMonitor.scheme=https', 'serviceMonitor.tlsConfig.insecureSkipVerify=true',
    'prometheusRule.enabled=true', 'reloader.enabled=true', 'secrets.existingSecret=dispatcher-credentials',
    'kafka.tls.enabled=true', 'kafka.tls.caSecret.name=kafka-ca', 'admin.tls.secretName=admin-tls'
  ]
  let rendered: Manifest[] = []
  const setup = async (): Promise<Manifest[]> => {
    if (rendered.length === 0) rendered = await render({ values: [ciValues.minimal], set })
    return rendered
  }

  it('label and annotate every object, and put every object in namespaceOverride (the ServiceMonitor where asked)', async () => {
    for (const m of await setup()) {
      expect(m.metadata.labels?.['cost-center'], `${m.kind} ${m.metadata.name}`).toBe('payments')
      expect(m.metadata.annotations?.owner, `${m.kind} ${m.metadata.name}`).toBe('platform-team')
      expect(m.metadata.namespace, m.kind).toBe(m.kind === 'ServiceMonitor' ? 'monitoring' : 'webhooks')
    }
    // Selectors stay the immutable two.
    expect(Object.keys(deployment(rendered).spec.selector.matchLabels as object).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name'])
  })

  it('put the extra volumes, env sources, containers, lifecycle and DNS settings in the pod', async () => {
    const pod = deployment(await setup()).spec.template.spec
    const dispatcher = pod.containers[0]
    expect(pod.volumes).toContainEqual({ name: 'certs', configMap: { name: 'extra-certs' } })
    expect(dispatcher.volumeMounts).toContainEqual({ name: 'certs', mountPath: '/etc/extra-certs', readOnly: true })
    expect(dispatcher.envFrom.at(-1)).toEqual({ secretRef: { name: 'otel-env' } })
    expect(pod.initContainers).toEqual([{ name: 'wait', image: 'busybox:1.36', command: ['/bin/true'] }])
    expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(['dispatcher', 'shipper'])
    expect(dispatcher.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } })
    expect(pod.dnsPolicy).toBe('ClusterFirst')
    expect(pod.dnsConfig).toEqual({ options: [{ name: 'single-request-reopen' }], searches: ['payments.svc.cluster.local'] })
    expect(pod.enableServiceLinks).toBe(false)
    expect(deployment(rendered).spec.minReadySeconds).toBe(10)
  })

  it('name every Secret the pods read for Reloader', async () => {
    expect(deployment(await setup()).metadata.annotations?.['secret.reloader.stakater.com/reload']).toBe('dispatcher-credentials,kafka-ca,admin-tls')
  })

  it('give the ServiceMonitor its relabelings after the job one, metric relabelings and TLS settings', async () => {
    const endpoint = one(await setup(), 'ServiceMonitor').spec.endpoints[0]
    expect(endpoint.relabelings.map((r: { action: string }) => r.action)).toEqual(['replace', 'labeldrop'])
    expect(endpoint.metricRelabelings).toEqual([{ action: 'drop', sourceLabels: ['__name__'], regex: 'nodejs_.*' }])
    expect(endpoint).toMatchObject({ scheme: 'https', tlsConfig: { insecureSkipVerify: true } })
  })

  it('render objects valid under kubeconform -strict', async () => {
    const { resources, summary } = await validate((await setup()).map((m) => stringify(m)).join('---\n'))
    expect(resources.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}: ${r.msg}`)).toEqual([])
    expect(summary.valid).toBe(rendered.length)
  })
})

describe('values the chart refuses', () => {
  it.each([
    ['more replicas than partitions', ['replicaCount=13'], 'replicaCount (13) exceeds kafka.partitions (12)'],
    ['metrics.port equal to admin.port', ['metrics.port=8080'], 'metrics.port and admin.port are both 8080'],
    ['a malformed memory limit', ['resources.limits.memory=1 Gi'], "at '/resources/limits/memory'"],
    ['a malformed CPU request', ['resources.requests.cpu=500mc'], "at '/resources/requests/cpu'"],
    ['an unknown resource field', ['resources.limit.memory=1Gi'], "additional properties 'limit' not allowed"],
    ['whenUnsatisfiable outside its enum', ['topologySpreadConstraints[0].whenUnsatisfiable=Sometimes'], "at '/topologySpreadConstraints/0/whenUnsatisfiable'"],
    ['root with a writable root filesystem', ['securityContext.runAsNonRoot=false', 'securityContext.runAsUser=0', 'podSecurityContext.runAsNonRoot=false', 'podSecurityContext.runAsUser=0', 'securityContext.readOnlyRootFilesystem=false'], 'running as root (runAsNonRoot false or runAsUser 0) with a writable root filesystem'],
    ['a ServiceMonitor elsewhere with the bearer token', ['serviceMonitor.enabled=true', 'serviceMonitor.namespace=monitoring', 'serviceMonitor.bearerToken=true'], 'serviceMonitor.namespace differs from the release\'s']
  ])('refuses %s', async (_what, set, message) => {
    expect(await renderError({ values: [ciValues.minimal], set })).toContain(message)
  })

  it('accepts KEDA above replicaCount, a writable root filesystem as non-root, and quantities as numbers', async () => {
    await expect(render({ values: [ciValues.minimal], set: ['replicaCount=20', 'keda.enabled=true'] })).resolves.toBeDefined()
    await expect(render({ values: [ciValues.minimal], set: ['securityContext.readOnlyRootFilesystem=false'] })).resolves.toBeDefined()
    const limits = deployment(await render({ values: [ciValues.minimal], set: ['resources.limits.cpu=2', 'resources.limits.memory=1.5Gi'] })).spec.template.spec.containers[0].resources.limits
    expect(limits).toEqual({ cpu: 2, memory: '1.5Gi' })
  })
})

describe('Chart.yaml', () => {
  it('has an icon (a data URI, no web host needed) and maintainers', () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { icon: string, maintainers: Array<{ name: string }> }
    expect(chart.icon).toMatch(/^data:image\/svg\+xml;base64,/)
    expect(Buffer.from(chart.icon.split(',')[1] as string, 'base64').toString()).toContain('<svg')
    expect(chart.maintainers.length).toBeGreaterThan(0)
  })
})
