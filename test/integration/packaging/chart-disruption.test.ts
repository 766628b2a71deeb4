// Voluntary disruptions (node drains): the PodDisruptionBudget never blocks a
// drain outright (no 0, nothing above 100 %), lets broken pods go, and KEDA
// keeps at least two instances so a drain never takes the only one.
import { describe, expect, it } from 'vitest'
import { ciValues, one, render, renderError } from './helm.js'

describe('PodDisruptionBudget', () => {
  it('allows one pod down by default and evicts pods that are not ready whatever the budget', async () => {
    const pdb = one(await render({ values: [ciValues.minimal] }), 'PodDisruptionBudget')
    expect(pdb.spec.maxUnavailable).toBe(1)
    expect(pdb.spec.minAvailable).toBeUndefined()
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow')
  })

  it('takes minAvailable instead of maxUnavailable, as a number or a percentage', async () => {
    for (const [value, rendered] of [['2', 2], ['50%', '50%'], ['0', 0]] as const) {
      const pdb = one(await render({ values: [ciValues.minimal], set: [`podDisruptionBudget.minAvailable=${value}`] }), 'PodDisruptionBudget')
      expect(pdb.spec.minAvailable).toBe(rendered)
      expect(pdb.spec.maxUnavailable).toBeUndefined()
    }
  })

  it('takes IfHealthyBudget, and leaves the field out for API servers before 1.27', async () => {
    expect(one(await render({ values: [ciValues.minimal], set: ['podDisruptionBudget.unhealthyPodEvictionPolicy=IfHealthyBudget'] }), 'PodDisruptionBudget').spec.unhealthyPodEvictionPolicy).toBe('IfHealthyBudget')
    expect(one(await render({ values: [ciValues.minimal], kubeVersion: '1.26.9' }), 'PodDisruptionBudget').spec.unhealthyPodEvictionPolicy).toBeUndefined()
  })

  it.each([
    ['maxUnavailable 0 (no drain could ever evict a pod)', 'podDisruptionBudget.maxUnavailable=0', "at '/podDisruptionBudget/maxUnavailable'"],
    ['maxUnavailable 0%', 'podDisruptionBudget.maxUnavailable=0%', "at '/podDisruptionBudget/maxUnavailable'"],
    ['maxUnavailable above 100%', 'podDisruptionBudget.maxUnavailable=150%', "at '/podDisruptionBudget/maxUnavailable'"],
    ['minAvailable above 100%', 'podDisruptionBudget.minAvailable=101%', "at '/podDisruptionBudget/minAvailable'"],
    ['an unknown eviction policy', 'podDisruptionBudget.unhealthyPodEvictionPolicy=Never', "at '/podDisruptionBudget/unhealthyPodEvictionPolicy'"]
  ])('refuses %s', async (_what, set, message) => {
    expect(await renderError({ values: [ciValues.minimal], set: [set] })).toContain(message)
  })
})

describe('KEDA minimum', () => {
  it('is 2 by default, so a drain that takes one pod leaves one running', async () => {
    const scaled = one(await render({ values: [ciValues.minimal], set: ['keda.enabled=true'] }), 'ScaledObject')
    expect(scaled.spec.minReplicaCount).toBe(2)
  })
})
