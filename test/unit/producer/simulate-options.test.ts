import { describe, expect, it } from 'vitest'
import { DEFAULT_KAFKA_COMPRESSION } from '../../../services/events/src/index.js'
import { parseMix, parseSimulateArgs, readSimulateEnv, UsageError } from '../../../services/producer/src/cli/simulate-options.js'
import { eventsDue, msUntilNextEvent } from '../../../services/producer/src/pacing.js'

const seed = (): number => 4242

describe('simulate options', () => {
  it('has defaults', () => {
    expect(parseSimulateArgs([], seed)).toEqual({
      tenants: 5, accounts: 100, rate: 50, count: 0, seed: 4242,
      mix: { transactions: 80, accounts: 10, fraud: 10 }, partitions: 12, help: false
    })
  })

  it('parses every option in both spellings', () => {
    expect(parseSimulateArgs([
      '--tenants', '3', '--accounts=40', '--rate', '2.5', '--count', '200', '--seed', '9',
      '--mix', 'transactions=70,accounts=20,fraud=10', '--partitions', '6'
    ], seed)).toEqual({
      tenants: 3, accounts: 40, rate: 2.5, count: 200, seed: 9,
      mix: { transactions: 70, accounts: 20, fraud: 10 }, partitions: 6, help: false
    })
    expect(parseSimulateArgs(['-h'], seed).help).toBe(true)
  })

  it.each([
    [['--tenants', '0'], /--tenants must be at least 1/],
    [['--accounts', 'many'], /--accounts must be a whole number/],
    [['--rate', '0'], /--rate must be a positive number/],
    [['--rate', 'fast'], /--rate must be a positive number/],
    [['--count=-1'], /--count must be a whole number/],
    [['--mix', 'transactions=80,loans=20'], /--mix wants family=weight pairs/],
    [['--mix', 'fraud=0'], /at least one positive weight/],
    [['--partitions', '0'], /--partitions must be at least 1/],
    [['--verbose'], /Unknown option/],
    [['extra'], /positional/]
  ])('refuses %j', (argv, message) => {
    expect(() => parseSimulateArgs(argv, seed)).toThrow(UsageError)
    expect(() => parseSimulateArgs(argv, seed)).toThrow(message)
  })

  it('weighs omitted families 0 in a mix', () => {
    expect(parseMix('fraud=1')).toEqual({ transactions: 0, accounts: 0, fraud: 1 })
  })

  it('reads and checks the environment, naming the variable', () => {
    expect(readSimulateEnv({ KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19093', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7' }))
      .toEqual({ brokers: ['127.0.0.1:19092', '127.0.0.1:19093'], registryUrl: 'http://127.0.0.1:18081/apis/ccompat/v7', compression: DEFAULT_KAFKA_COMPRESSION })
    expect(readSimulateEnv({ KAFKA_BROKERS: 'a:1', SCHEMA_REGISTRY_URL: 'http://x', KAFKA_COMPRESSION: ' ZSTD ' }).compression).toBe('zstd')
    expect(() => readSimulateEnv({ KAFKA_BROKERS: 'a:1', SCHEMA_REGISTRY_URL: 'http://x', KAFKA_COMPRESSION: 'brotli' })).toThrow(/KAFKA_COMPRESSION must be one of none, gzip, snappy, lz4, zstd/)
    expect(() => readSimulateEnv({ SCHEMA_REGISTRY_URL: 'http://x' })).toThrow(/KAFKA_BROKERS is not set/)
    expect(() => readSimulateEnv({ KAFKA_BROKERS: 'localhost', SCHEMA_REGISTRY_URL: 'http://x' })).toThrow(/KAFKA_BROKERS .*host:port/)
    expect(() => readSimulateEnv({ KAFKA_BROKERS: 'a:1' })).toThrow(/SCHEMA_REGISTRY_URL is not set/)
    expect(() => readSimulateEnv({ KAFKA_BROKERS: 'a:1', SCHEMA_REGISTRY_URL: 'not a url' })).toThrow(/SCHEMA_REGISTRY_URL is not a URL/)
  })
})

describe('pacing', () => {
  it('owes what a steady rate would have sent', () => {
    expect(eventsDue({ elapsedMs: 0, rate: 100, generated: 0, count: 0, maxBatch: 500 })).toBe(0)
    expect(eventsDue({ elapsedMs: 1000, rate: 100, generated: 0, count: 0, maxBatch: 500 })).toBe(100)
    expect(eventsDue({ elapsedMs: 1000, rate: 100, generated: 60, count: 0, maxBatch: 500 })).toBe(40)
    expect(eventsDue({ elapsedMs: 500, rate: 100, generated: 60, count: 0, maxBatch: 500 })).toBe(0)
  })

  it('caps by batch size and by the total', () => {
    expect(eventsDue({ elapsedMs: 60_000, rate: 100, generated: 0, count: 0, maxBatch: 500 })).toBe(500)
    expect(eventsDue({ elapsedMs: 60_000, rate: 100, generated: 180, count: 200, maxBatch: 500 })).toBe(20)
    expect(eventsDue({ elapsedMs: 60_000, rate: 100, generated: 200, count: 200, maxBatch: 500 })).toBe(0)
  })

  it('knows when the next event is owed', () => {
    expect(msUntilNextEvent({ elapsedMs: 0, rate: 10, generated: 0 })).toBe(100)
    expect(msUntilNextEvent({ elapsedMs: 150, rate: 10, generated: 1 })).toBe(50)
    expect(msUntilNextEvent({ elapsedMs: 500, rate: 10, generated: 1 })).toBe(0)
  })
})
