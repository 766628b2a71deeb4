// Autoscaling that can reach its maximum: KEDA scales on the group's lag
// summed over every source topic (one trigger per topic followed the largest
// topic and could never pass its partitions), either from the brokers or
// from the dispatchers' own lag metric.
import { describe, expect, it } from 'vitest'
import { ciValues, one, render, renderError } from './helm.js'

const twoTopics = ['kafka.sourceTopics[0]=banking.transactions.v1', 'kafka.sourceTopics[1]=banking.accounts.v1', 'kafka.partitions=24', 'keda.enabled=true', 'keda.maxReplicaCount=24']

describe('KEDA', () => {
  it('with the prometheus scaler, sums webhooks_consumer_lag over the source topics of this namespace and job', async () => {
    const rendered = await render({ values: [ciValues.minimal], namespace: 'payments', set: [...twoTopics, 'keda.scaler=prometheus', 'keda.prometheus.serverAddress=http://prometheus-operated.monitoring.svc:9090', 'metrics.job=webhooks-prod'] })
    const triggers = one(rendered, 'ScaledObject').spec.triggers as Array<{ type: string, metadata: Record<string, string> }>
    expect(triggers).toHaveLength(1)
    expect(triggers[0]?.type).toBe('prometheus')
    expect(triggers[0]?.metadata).toMatchObject({
      serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
      // The topic names' dots are escaped for the regex, and the backslashes for PromQL's string.
      query: 'sum(webhooks_consumer_lag{namespace="payments", job="webhooks-prod", topic=~"banking\\\\.transactions\\\\.v1|banking\\\\.accounts\\\\.v1"})',
      threshold: '1000'
    })
    // No Kafka credentials for KEDA with this scaler.
    expect(rendered.filter((m) => m.kind === 'TriggerAuthentication')).toEqual([])
  })

  it('refuses the prometheus scaler without a server address', async () => {
    expect(await renderError({ values: [ciValues.minimal], set: [...twoTopics, 'keda.scaler=prometheus'] })).toContain('keda.prometheus.serverAddress is required')
  })

  it('can reach a maximum above any one topic\'s partitions: the cap is the partitions of all source topics together', async () => {
    const scaled = one(await render({ values: [ciValues.full] }), 'ScaledObject')
    expect(scaled.spec.maxReplicaCount).toBe(24)
    expect(scaled.spec.triggers).toHaveLength(1)
    expect(scaled.spec.triggers[0].metadata.topic).toBe('banking.transactions.v1,banking.accounts.v1')
  })

  it('refuses kafka.partitions below the number of source topics', async () => {
    expect(await renderError({ values: [ciValues.minimal], set: ['kafka.sourceTopics[0]=a', 'kafka.sourceTopics[1]=b', 'kafka.partitions=1'] }))
      .toContain('kafka.partitions (1) is fewer than the source topics (2)')
  })
})
