/**
 * schemas-check: registers every event family's schema under its subject
 * with BACKWARD compatibility, refusing incompatible changes. Subjects: by
 * default one per record on banking.account-events.v1
 * (`<topic>-<record full name>`, TopicRecordNameStrategy); `--topic NAME`
 * names another shared topic; `--three-topics` checks the three-topic
 * layout's `<topic>-value` subjects instead. Exit codes: 0 all good, 1 a
 * schema is incompatible, 2 the registry is unreachable or misconfigured.
 *
 *   SCHEMA_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7 node dist/services/events/src/cli/schemas-check.js [--topic NAME | --three-topics]
 */
import { parseArgs } from 'node:util'
import { EventsError } from '../errors.js'
import { quietKafkajsTimerWarning } from '../kafkajs-warnings.js'
import { checkFamilySchemas, describeFamilyCheck } from '../schemas-check.js'

async function main (): Promise<number> {
  const url = process.env.SCHEMA_REGISTRY_URL
  if (url === undefined || url.trim() === '') {
    console.error('SCHEMA_REGISTRY_URL is not set; it is the Confluent-compatible API base, e.g. http://127.0.0.1:18081/apis/ccompat/v7')
    return 2
  }
  if (!URL.canParse(url)) {
    console.error(`SCHEMA_REGISTRY_URL is not a URL: ${JSON.stringify(url)}`)
    return 2
  }
  let layout: { topic?: string, topics?: Record<never, never> }
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { topic: { type: 'string' }, 'three-topics': { type: 'boolean' } } })
    if (values.topic !== undefined && values['three-topics'] === true) throw new Error('--topic and --three-topics exclude each other')
    layout = values['three-topics'] === true ? { topics: {} } : values.topic === undefined ? {} : { topic: values.topic }
  } catch (err) {
    console.error(`usage: schemas-check.js [--topic NAME | --three-topics]: ${err instanceof Error ? err.message : String(err)}`)
    return 2
  }
  try {
    const checks = await checkFamilySchemas({ url }, layout)
    for (const check of checks) console.log(describeFamilyCheck(check))
    const failed = checks.filter((check) => !check.ok)
    if (failed.length > 0) {
      console.error(`${failed.length} schema(s) incompatible with what is registered. Evolve schemas by adding optional fields with defaults (see schemas/README.md).`)
      return 1
    }
    return 0
  } catch (err) {
    const code = err instanceof EventsError ? ` [${err.code}]` : ''
    console.error(`schemas-check failed${code}: ${err instanceof Error ? err.message : String(err)}`)
    return 2
  }
}

quietKafkajsTimerWarning()
process.exitCode = await main()
