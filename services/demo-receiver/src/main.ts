// Demo webhook receiver for `make dev`: config → receiver → signal handling.
import { loadDemoReceiverConfig } from './config.js'
import { startDemoReceiver } from './receiver.js'

let config
try {
  config = loadDemoReceiverConfig(process.env)
} catch (err) {
  console.error(`demo-receiver: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}

const receiver = await startDemoReceiver(config)
console.log(`demo-receiver: listening on ${receiver.url} (FAIL_RATE=${config.failRate}, LATENCY_MS=${config.latencyMs})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void receiver.close().then(() => {
      const { received, accepted, duplicates, invalid, failed } = receiver.stats()
      console.log(`demo-receiver: stopped; received=${received} accepted=${accepted} duplicates=${duplicates} invalid=${invalid} failed=${failed}`)
    })
  })
}
