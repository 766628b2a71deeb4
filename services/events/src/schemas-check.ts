/**
 * The schemas-check procedure (the CLI wraps it): for every family, set the
 * subject to BACKWARD, test the current schema against the latest version
 * and register it. Pure of printing and exit codes so tests can run it on
 * throwaway subjects.
 */
import { ensureSchema, type EnsureSchemaResult, type RegistryHttpOptions } from './compatibility.js'
import { SchemaIncompatibleError } from './errors.js'
import { FAMILY_NAMES, familySchemaString, resolveTopics, subjectForTopic, type FamilyName } from './families.js'

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
  { topics = {}, schemas = {} }: {
    topics?: Partial<Record<FamilyName, string>>
    /** Schema text per family instead of the file's; for tests. */
    schemas?: Partial<Record<FamilyName, string>>
  } = {}
): Promise<FamilyCheck[]> {
  const resolved = resolveTopics(topics)
  const checks: FamilyCheck[] = []
  for (const family of FAMILY_NAMES) {
    const subject = subjectForTopic(resolved[family])
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
