/**
 * kafkajs 2.2.4 arms a negative setTimeout when a request queues behind the
 * one in flight (requestQueue scheduleCheckPendingRequests; Node ≥ 23 clamps
 * it to 1 ms and warns). Harmless; every other warning is still printed.
 * For the CLIs and the dispatcher process, never for a library caller.
 */
export function quietKafkajsTimerWarning (): void {
  process.removeAllListeners('warning')
  process.on('warning', (warning) => {
    if (warning.name !== 'TimeoutNegativeWarning') console.error(warning)
  })
}
