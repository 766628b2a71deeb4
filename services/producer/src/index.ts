export {
  createBankingProducer, type BankingProducer, type BankingProducerOptions, type PublishResult
} from './banking-producer.js'
export { ProducerError, ProducerNotConnectedError, TopicMissingError } from './errors.js'
export { JavaCompatiblePartitioner, javaPartition, keyBytes, murmur2, toPositive } from '../../events/src/index.js'
export { DEFAULT_PARTITIONS, bankingTopicSpecs, ensureTopics, type TopicReport, type TopicSpec } from './topics.js'
export {
  DEFAULT_MIX, createSimulator, type EventMix, type Simulator, type SimulatorOptions, type SimulatorStats
} from './simulator.js'
export { eventsDue, msUntilNextEvent } from './pacing.js'
export { createRandom, type Random } from './prng.js'
