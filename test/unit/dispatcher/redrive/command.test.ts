import { describe, expect, it } from 'vitest'
import { parseRedriveCommand, redriveUsage } from '../../../../services/dispatcher/src/redrive/command.js'

const env = { KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.2:19092' }

function problem (argv: string[], environment: Record<string, string | undefined> = env): { code?: string, variable?: string, message: string } {
  try {
    parseRedriveCommand(argv, environment)
  } catch (err) {
    return err as { code?: string, variable?: string, message: string }
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`)
}

describe('parseRedriveCommand', () => {
  it('defaults to everything, for real, in a throwaway group, with the dispatcher\'s topic defaults', () => {
    expect(parseRedriveCommand([], env)).toEqual({
      help: false,
      brokers: ['127.0.0.1:19092', '127.0.0.2:19092'],
      clientId: 'webhook-dispatcher-redrive',
      deadLetterTopic: 'webhooks.dead-letter',
      stateTopic: 'webhooks.dead-letter-state.webhook-dispatcher',
      retryTopicSuffix: '.retry.webhook-dispatcher',
      compression: 'zstd',
      filter: {},
      dryRun: false,
      again: false,
      by: expect.stringMatching(/^cli:.+@.+$/)
    })
  })

  it('takes --again and --by, and the state topic of the dispatcher\'s group', () => {
    const command = parseRedriveCommand(['--again', '--by', ' alice '], { ...env, KAFKA_GROUP_ID: 'blue' })
    expect(command).toMatchObject({ again: true, by: 'alice', stateTopic: 'webhooks.dead-letter-state.blue' })
    expect(parseRedriveCommand([], { ...env, DEAD_LETTER_STATE_TOPIC: 'st' }).stateTopic).toBe('st')
    expect(problem(['--by', ' '])).toMatchObject({ code: 'WHD_ERR_CONFIG', variable: '--by' })
  })

  it('documents every exit code it can return, from the one table', () => {
    expect(redriveUsage).toContain('Exit codes: 0 done, 1 Kafka error, 2 bad flags or environment')
    expect(redriveUsage).toContain('3 an overlapping redrive is running')
    expect(redriveUsage).toContain('130 interrupted')
  })

  it('writes with KAFKA_COMPRESSION, and refuses a codec Kafka does not have, naming the variable', () => {
    expect(parseRedriveCommand([], { ...env, KAFKA_COMPRESSION: 'SNAPPY' }).compression).toBe('snappy')
    expect(() => parseRedriveCommand([], { ...env, KAFKA_COMPRESSION: 'brotli' })).toThrow(/KAFKA_COMPRESSION: must be one of none, gzip, snappy, lz4, zstd/)
  })

  it('reads DEAD_LETTER_TOPIC, RETRY_TOPIC_SUFFIX and KAFKA_CLIENT_ID', () => {
    const command = parseRedriveCommand([], { ...env, DEAD_LETTER_TOPIC: ' dlq ', RETRY_TOPIC_SUFFIX: '-retry', KAFKA_CLIENT_ID: 'ops' })
    expect(command.deadLetterTopic).toBe('dlq')
    expect(command.retryTopicSuffix).toBe('-retry')
    // The default names the dispatcher's group, as the dispatcher does.
    expect(parseRedriveCommand([], { ...env, KAFKA_GROUP_ID: 'blue' }).retryTopicSuffix).toBe('.retry.blue')
    expect(command.clientId).toBe('ops-redrive')
  })

  it('reads every flag; list flags repeat, dedupe and trim', () => {
    const command = parseRedriveCommand([
      '--subscription', 'sub-a', '--subscription=sub-b', '--subscription', 'sub-a',
      '--account', ' acc-1 ',
      '--from', '2024-06-10T08:00:00Z', '--to=1718013600000',
      '--reason', 'retries-exhausted', '--reason', 'endpoint-gone',
      '--source-topic', 'banking.transactions.v1',
      '--dry-run', '--group-id', 'ops-redrive-1'
    ], env)
    expect(command.filter).toEqual({
      subscriptionIds: ['sub-a', 'sub-b'],
      accountIds: ['acc-1'],
      from: Date.UTC(2024, 5, 10, 8),
      to: 1718013600000,
      reasons: ['retries-exhausted', 'endpoint-gone'],
      sourceTopics: ['banking.transactions.v1']
    })
    expect(command.dryRun).toBe(true)
    expect(command.groupId).toBe('ops-redrive-1')
  })

  it('answers --help without needing the environment', () => {
    expect(parseRedriveCommand(['--help'], {}).help).toBe(true)
    expect(parseRedriveCommand(['-h'], {}).help).toBe(true)
    for (const flag of ['--subscription', '--account', '--from', '--to', '--reason', '--source-topic', '--dry-run', '--group-id']) {
      expect(redriveUsage).toContain(flag)
    }
  })

  it.each([
    { argv: ['--bogus'], flag: '--bogus', says: /Unknown option/ },
    { argv: ['-x'], flag: '-x', says: /Unknown option/ },
    { argv: ['--subscription'], flag: '--subscription', says: /argument missing/ },
    { argv: ['--from'], flag: '--from', says: /argument missing/ },
    { argv: ['--dry-run=yes'], flag: '--dry-run', says: /does not take an argument/ },
    { argv: ['acc-1'], flag: 'arguments', says: /Unexpected argument/ },
    { argv: ['--subscription', ''], flag: '--subscription', says: /must not be empty/ },
    { argv: ['--account', ' '], flag: '--account', says: /must not be empty/ },
    { argv: ['--reason='], flag: '--reason', says: /must not be empty/ },
    { argv: ['--source-topic', ''], flag: '--source-topic', says: /must not be empty/ },
    { argv: ['--group-id', ''], flag: '--group-id', says: /must not be empty/ },
    { argv: ['--from', 'yesterday'], flag: '--from', says: /neither ISO-8601/ },
    { argv: ['--to', '2024-06-10T08:00:00'], flag: '--to', says: /no time zone/ },
    { argv: ['--to', '2024-02-30'], flag: '--to', says: /not a calendar date/ },
    { argv: ['--from', '2024-06-11', '--to', '2024-06-10'], flag: '--to', says: /later than --from/ },
    { argv: ['--from', '2024-06-10', '--to', '2024-06-10T00:00:00Z'], flag: '--to', says: /later than --from/ },
    { argv: ['--group-id', 'webhook-dispatcher'], flag: '--group-id', says: /dispatcher's consumer group/ }
  ])('refuses $argv naming $flag', ({ argv, flag, says }) => {
    const err = problem(argv)
    expect(err.code).toBe('WHD_ERR_CONFIG')
    expect(err.variable).toBe(flag)
    expect(err.message).toContain(flag === 'arguments' ? 'acc-1' : flag)
    expect(err.message).toMatch(says)
  })

  it('refuses the dispatcher\'s group as configured by KAFKA_GROUP_ID', () => {
    expect(problem(['--group-id', 'dispatchers'], { ...env, KAFKA_GROUP_ID: 'dispatchers' }).variable).toBe('--group-id')
    expect(parseRedriveCommand(['--group-id', 'webhook-dispatcher'], { ...env, KAFKA_GROUP_ID: 'dispatchers' }).groupId).toBe('webhook-dispatcher')
  })

  it('names the environment variable that is missing or invalid', () => {
    expect(problem([], {})).toMatchObject({ code: 'WHD_ERR_CONFIG', variable: 'KAFKA_BROKERS' })
    expect(problem([], { KAFKA_BROKERS: ' , ' })).toMatchObject({ variable: 'KAFKA_BROKERS' })
    expect(problem([], { ...env, DEAD_LETTER_TOPIC: ' ' })).toMatchObject({ variable: 'DEAD_LETTER_TOPIC' })
  })

  it('judges the flags before the environment', () => {
    expect(problem(['--from', 'soon'], {})).toMatchObject({ variable: '--from' })
  })
})
