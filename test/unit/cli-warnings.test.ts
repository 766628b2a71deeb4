// Every command line (and the dispatcher) installs the filter for kafkajs's
// harmless TimeoutNegativeWarning (events/src/kafkajs-warnings.ts): an
// operator running a redrive must not be shown a warning that means nothing.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const services = join(import.meta.dirname, '../../services')
const entryPoints = [
  'dispatcher/src/main.ts',
  ...readdirSync(services).flatMap((service) => {
    const cli = join(services, service, 'src/cli')
    try {
      return readdirSync(cli).filter((file) => file.endsWith('.ts')).map((file) => `${service}/src/cli/${file}`)
    } catch {
      return []
    }
  })
]
  // A command runs something when it is invoked: helpers (option parsers) do not.
  .filter((file) => file.endsWith('/main.ts') || /^process\.exitCode = |^if \(invokedDirectly\((import\.meta\.url)?\)\)|^ {2}process\.exitCode = await/m.test(readFileSync(join(services, file), 'utf8')))

describe('command lines', () => {
  it('are found: the dispatcher and every cli/ entry point', () => {
    expect(entryPoints).toEqual(expect.arrayContaining([
      'dispatcher/src/main.ts', 'dispatcher/src/cli/redrive.ts', 'dispatcher/src/cli/import-subscriptions.ts',
      'dispatcher/src/cli/openapi.ts', 'events/src/cli/schemas-check.ts', 'producer/src/cli/simulate.ts'
    ]))
  })

  it.each(entryPoints)('%s filters TimeoutNegativeWarning', (file) => {
    expect(readFileSync(join(services, file), 'utf8')).toMatch(/^\s*quietKafkajsTimerWarning\(\)$/m)
  })
})
