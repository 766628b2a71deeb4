import { describe, expect, it } from 'vitest'
import { historyThreadLimits, mainHeapAdvice, mainHeapLimitMib, MAX_OLD_MIB, MIN_OLD_MIB, processMemoryLimit } from '../../../../services/dispatcher/src/memory/heap-limits.js'

const MiB = 2 ** 20

describe('historyThreadLimits', () => {
  it('keeps the limits of a process without a memory limit', () => {
    expect(historyThreadLimits(undefined)).toEqual({ maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: MAX_OLD_MIB })
    expect(historyThreadLimits(0)).toEqual({ maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: MAX_OLD_MIB })
  })

  it('gives each thread an eighth of a container limit: 64 MiB of old space in 512 MiB', () => {
    expect(historyThreadLimits(512 * MiB)).toEqual({ maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 })
    expect(historyThreadLimits(1536 * MiB)).toEqual({ maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 192 })
  })

  it('never goes below the floor a thread needs, nor above the limit without a container', () => {
    expect(historyThreadLimits(128 * MiB).maxOldGenerationSizeMb).toBe(MIN_OLD_MIB)
    expect(historyThreadLimits(64 * 1024 * MiB).maxOldGenerationSizeMb).toBe(MAX_OLD_MIB)
  })
})

describe('mainHeapLimitMib', () => {
  it('is 3/8 of the memory limit: 192 MiB in 512 MiB, 576 MiB in the chart\'s 1536 MiB', () => {
    expect(mainHeapLimitMib(512)).toBe(192)
    expect(mainHeapLimitMib(1536)).toBe(576)
    expect(mainHeapLimitMib(1000)).toBe(375)
  })
})

describe('processMemoryLimit', () => {
  it('is the cgroup limit when it is below the machine memory', () => {
    expect(processMemoryLimit(512 * MiB, 24 * 1024 * MiB)).toBe(512 * MiB)
  })

  it('is undefined without a cgroup limit (Node reports 0 or a huge number) or with one above the machine memory', () => {
    expect(processMemoryLimit(0, 24 * 1024 * MiB)).toBeUndefined()
    expect(processMemoryLimit(2 ** 64, 24 * 1024 * MiB)).toBeUndefined()
    expect(processMemoryLimit(32 * 1024 * MiB, 24 * 1024 * MiB)).toBeUndefined()
  })
})

describe('mainHeapAdvice', () => {
  it('names the flag when V8 sized the main heap at half a 512 MiB limit, as it does without NODE_OPTIONS', () => {
    expect(mainHeapAdvice(512 * MiB, 259 * MiB)).toEqual({ limitMib: 512, heapLimitMib: 259, flag: '--max-old-space-size=192' })
  })

  it('says nothing once the flag is set (V8 adds a little to it), or without a memory limit', () => {
    // heap_size_limit with --max-old-space-size=192 in 512 MiB: the old space plus the young generation.
    expect(mainHeapAdvice(512 * MiB, 200 * MiB)).toBeUndefined()
    expect(mainHeapAdvice(undefined, 4288 * MiB)).toBeUndefined()
  })
})
