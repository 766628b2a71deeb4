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
    reporters: ['default', ['json', { outputFile: '.run/test-report.json' }]]
  }
})
