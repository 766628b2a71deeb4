// The machine's load average over the run, sampled from /proc/loadavg: on a
// shared 2-core machine it says how much of a figure other work took.
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'

export interface LoadSample {
  /** 1-, 5- and 15-minute load averages. */
  one: number
  five: number
  fifteen: number
}

export interface LoadSummary {
  start: LoadSample
  end: LoadSample
  /** Of the 1-minute average, over every sample (start and end included). */
  max: number
  mean: number
  samples: number
}

export function readLoadAverage (): LoadSample {
  try {
    const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).map(Number)
    return { one: one ?? Number.NaN, five: five ?? Number.NaN, fifteen: fifteen ?? Number.NaN }
  } catch {
    const [one, five, fifteen] = loadavg()
    return { one: one ?? Number.NaN, five: five ?? Number.NaN, fifteen: fifteen ?? Number.NaN }
  }
}

export function summarizeLoad (samples: readonly LoadSample[]): LoadSummary | undefined {
  const first = samples[0]
  const last = samples.at(-1)
  if (first === undefined || last === undefined) return undefined
  const ones = samples.map((s) => s.one)
  return { start: first, end: last, max: Math.max(...ones), mean: ones.reduce((a, b) => a + b, 0) / ones.length, samples: samples.length }
}

/** Samples every `intervalMs` until stopped; the timer never keeps the process alive. */
export function sampleLoad (intervalMs: number): { stop: () => LoadSummary } {
  const samples: LoadSample[] = [readLoadAverage()]
  const timer = setInterval(() => samples.push(readLoadAverage()), intervalMs)
  timer.unref()
  return {
    stop: () => {
      clearInterval(timer)
      samples.push(readLoadAverage())
      return summarizeLoad(samples) as LoadSummary
    }
  }
}
