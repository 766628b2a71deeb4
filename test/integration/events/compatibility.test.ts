import { afterEach, describe, expect, it } from 'vitest'
import {
  deleteSubject, ensureSchema, getLatestVersion, getSubjectCompatibility, registerSchema, SchemaIncompatibleError,
  setSubjectCompatibility, testCompatibility
} from '../../../services/events/src/index.js'
import { checkFamilySchemas, describeFamilyCheck } from '../../../services/events/src/schemas-check.js'
import { familySchema, type FamilyName } from '../../../services/events/src/families.js'
import { uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'

const V1 = JSON.stringify({
  type: 'record', name: 'Probe', namespace: 'com.bank.test', fields: [{ name: 'a', type: 'string', doc: 'a' }]
})
// A new field without a default: a new reader cannot read old data.
const REQUIRED_ADDED = JSON.stringify({
  type: 'record', name: 'Probe', namespace: 'com.bank.test',
  fields: [{ name: 'a', type: 'string', doc: 'a' }, { name: 'b', type: 'string', doc: 'b' }]
})
// The house evolution rule: a new optional field with a default.
const OPTIONAL_ADDED = JSON.stringify({
  type: 'record', name: 'Probe', namespace: 'com.bank.test',
  fields: [{ name: 'a', type: 'string', doc: 'a' }, { name: 'c', type: ['null', 'string'], default: null, doc: 'c' }]
})

const subjects: string[] = []

async function registry (): Promise<{ url: string }> {
  return { url: (await testStack()).registryUrl }
}

function throwawaySubject (): string {
  const subject = `${uniqueTopic('test-compat')}-value`
  subjects.push(subject)
  return subject
}

afterEach(async () => {
  const options = await registry()
  await Promise.all(subjects.splice(0).map(async (subject) => await deleteSubject(options, subject)))
})

describe('compatibility against the real registry', () => {
  it('rejects a new required field and accepts a new optional field with a default', async () => {
    const options = await registry()
    const subject = throwawaySubject()

    const first = await ensureSchema(options, subject, V1)
    expect(first).toMatchObject({ subject, version: 1, outcome: 'registered', previousVersion: undefined })
    expect(await getSubjectCompatibility(options, subject)).toBe('BACKWARD')

    const again = await ensureSchema(options, subject, V1)
    expect(again).toMatchObject({ id: first.id, version: 1, outcome: 'unchanged' })

    await expect(ensureSchema(options, subject, REQUIRED_ADDED)).rejects.toBeInstanceOf(SchemaIncompatibleError)
    expect((await getLatestVersion(options, subject))?.version).toBe(1)

    const evolved = await ensureSchema(options, subject, OPTIONAL_ADDED)
    expect(evolved).toMatchObject({ version: 2, outcome: 'registered', previousVersion: 1 })
    expect(evolved.id).not.toBe(first.id)
  })

  it('answers the compatibility endpoint per the subject level', async () => {
    const options = await registry()
    const subject = throwawaySubject()
    await setSubjectCompatibility(options, subject, 'BACKWARD')
    // Nothing to compare with yet: compatible.
    expect((await testCompatibility(options, subject, REQUIRED_ADDED)).compatible).toBe(true)
    await registerSchema(options, subject, V1)
    expect((await testCompatibility(options, subject, REQUIRED_ADDED)).compatible).toBe(false)
    expect((await testCompatibility(options, subject, OPTIONAL_ADDED)).compatible).toBe(true)
  })

  it('has the registry itself refuse an incompatible registration (HTTP 409)', async () => {
    const options = await registry()
    const subject = throwawaySubject()
    await setSubjectCompatibility(options, subject, 'BACKWARD')
    await registerSchema(options, subject, V1)
    const failure = registerSchema(options, subject, REQUIRED_ADDED)
    await expect(failure).rejects.toBeInstanceOf(SchemaIncompatibleError)
    await expect(failure).rejects.toMatchObject({ code: 'WHE_ERR_SCHEMA_INCOMPATIBLE', subject })
    expect((await getLatestVersion(options, subject))?.version).toBe(1)
  })

  it('runs the schemas-check procedure per family and reports an incompatible one', async () => {
    const options = await registry()
    const topics: Record<FamilyName, string> = {
      transactions: uniqueTopic('test-tx'), accounts: uniqueTopic('test-acc'), fraud: uniqueTopic('test-fraud')
    }
    subjects.push(...Object.values(topics).map((topic) => `${topic}-value`))

    const first = await checkFamilySchemas(options, { topics })
    expect(first.map((check) => check.ok)).toEqual([true, true, true])
    expect(first.map(describeFamilyCheck).join('\n')).toMatch(/ok {3}transactions .*-value version 1 \(id \d+\): registered \(first version\)/)

    const second = await checkFamilySchemas(options, { topics })
    expect(second.map((check) => check.ok && check.result.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged'])

    const broken = structuredClone(familySchema('transactions'))
    broken.fields.push({ name: 'channel', type: 'string', doc: 'required, no default: incompatible' })
    const third = await checkFamilySchemas(options, { topics, schemas: { transactions: JSON.stringify(broken) } })
    expect(third.map((check) => check.ok)).toEqual([false, true, true])
    expect(describeFamilyCheck(third[0] as (typeof third)[number])).toMatch(/^FAIL transactions .*not compatible/)
  })
})
