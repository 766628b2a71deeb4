/**
 * Where the tests find Kafka and the schema registry.
 *
 * 1. `KAFKA_BROKERS` and `SCHEMA_REGISTRY_URL` when both are set (`make test`
 *    sets them for the local stack under deploy/local/);
 * 2. otherwise containers started with testcontainers when a Docker engine
 *    answers;
 * 3. otherwise a failure that says how to start the local stack.
 */
export interface TestStack {
  brokers: string[]
  registryUrl: string
}

let stackPromise: Promise<TestStack> | undefined

export function testStack (): Promise<TestStack> {
  stackPromise ??= resolveStack()
  return stackPromise
}

async function resolveStack (): Promise<TestStack> {
  const brokers = process.env.KAFKA_BROKERS
  const registryUrl = process.env.SCHEMA_REGISTRY_URL
  if (brokers !== undefined && brokers !== '' && registryUrl !== undefined && registryUrl !== '') {
    return { brokers: brokers.split(',').map((b) => b.trim()), registryUrl }
  }
  if (await dockerAvailable()) {
    const { startContainerStack } = await import('./containers.js')
    return await startContainerStack()
  }
  throw new Error(
    'No Kafka for the tests: set KAFKA_BROKERS and SCHEMA_REGISTRY_URL, or run `make stack-up` ' +
    '(local KRaft Kafka + Apicurio Registry, needs JDK 17+ and Maven) and use `make test`, ' +
    'or start a Docker engine so testcontainers can run them.'
  )
}

async function dockerAvailable (): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}
