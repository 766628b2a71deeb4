import { defineConfig } from 'vitest/config'

// Integration and e2e tests share one local Kafka and registry; two workers
// match the machine's two cores and keep broker load predictable.
// TEST_TIME_SCALE (default 1) scales every deadline: these and waitUntil's.
const scale = Number(process.env.TEST_TIME_SCALE ?? '') || 1

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000 * scale,
    hookTimeout: 120_000 * scale,
    maxWorkers: 2,
    setupFiles: ['test/support/quiet-kafkajs.ts'],
    // expect.poll waits for a condition like waitUntil, so its default
    // deadline (1 s) gets the same room: a loaded machine renders a page or
    // answers a request in seconds.
    expect: { poll: { timeout: 15_000 * scale, interval: 100 } },
    // What a passing test prints (chaos progress, receivers' notes) is
    // dropped; a failing test's output is kept in full, beside its error.
    silent: 'passed-only',
    reporters: ['default', ['json', { outputFile: '.run/test-report.json' }]]
  }
})
