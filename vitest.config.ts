import { defineConfig } from 'vitest/config'

// Integration and e2e tests share one local Kafka and registry; two workers
// match the machine's two cores and keep broker load predictable.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: '.run/test-report.json' }]]
  }
})
