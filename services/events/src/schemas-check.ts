/**
 * The schemas-check procedure (the CLI wraps it): for every family, set its
 * subject to BACKWARD, test the current schema against the latest version
 * and register it. Subjects follow the layout: one per record on a shared
 * topic (`<topic>-<record full name>`, the default), `<topic>-value` for a
 * topic of one family. Pure of printing and exit codes so tests can run it on
 * throwaway subjects.
 */
import { ensureSchema, type EnsureSchemaResult, type RegistryHttpOptions } from './compatibility.js'
import { SchemaIncompatibleError } from './errors.js'
import { FAMILY_NAMES, familySchemaString, sourceLayout, type FamilyName } from './families.js'

export type FamilyCheck =
  | { family: FamilyName, subject: string, ok: true, result: EnsureSchemaResult }
  | { family: FamilyName, subject: string, ok: false, error: SchemaIncompatibleError }

/**
 * Checks and registers each family's schema. An incompatible schema is
 * reported in the result and the other families still run; registry
 * failures (unreachable, refused) throw.
 */
export async function checkFamilySchemas (
  registry: RegistryHttpOptions,
  { topic, topics, schemas = {} }: {
    /** The one topic of every family (default layout); default banking.account-events.v1. */
    topic?: string
    /** Topic per family instead: the three-topic layout. */
    topics?: Partial<Record<FamilyName, string>>
    /** Schema text per family instead of the file's; for tests. */
    schemas?: Partial<Record<FamilyName, string>>
  } = {}
): Promise<FamilyCheck[]> {
  const layout = sourceLayout({ ...(topic === undefined ? {} : { topic }), ...(topics === undefined ? {} : { topics }) })
  const checks: FamilyCheck[] = []
  for (const family of FAMILY_NAMES) {
    const subject = layout.subjects[family]
    try {
      const result = await ensureSchema(registry, subject, schemas[family] ?? familySchemaString(family), { compatibility: 'BACKWARD' })
      checks.push({ family, subject, ok: true, result })
    } catch (err) {
      if (!(err instanceof SchemaIncompatibleError)) throw err
      checks.push({ family, subject, ok: false, error: err })
    }
  }
  return checks
}

/** One line per family for people and CI logs. */
export function describeFamilyCheck (check: FamilyCheck): string {
  const label = `${check.family.padEnd(12)} ${check.subject}`
  if (!check.ok) return `FAIL ${label}: ${check.error.message}`
  const { id, version, outcome, previousVersion } = check.result
  const how = outcome === 'unchanged'
    ? 'already registered'
    : previousVersion === undefined ? 'registered (first version)' : `registered, BACKWARD-compatible with version ${previousVersion}`
  return `ok   ${label} version ${version} (id ${id}): ${how}`
}
