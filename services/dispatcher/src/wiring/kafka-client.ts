import { Kafka, logLevel as kafkaLogLevel, type SASLOptions } from 'kafkajs'
import type { Logger } from 'pino'
import { registerKafkaCodecs } from '../../../events/src/index.js'
import type { DispatcherConfig } from '../config.js'
import { kafkaTlsOptions } from '../kafka/client-tls.js'
import { kafkajsLogCreator } from '../kafka/kafkajs-log.js'

/** The kafkajs client of the dispatcher's config, logging through pino: one for the main thread, one for the history thread. */
export function createKafkaClient (config: Readonly<DispatcherConfig>, rootLog: Logger): Kafka {
  registerKafkaCodecs()
  return new Kafka({
    brokers: [...config.kafkaBrokers],
    clientId: config.kafkaClientId,
    ssl: kafkaTlsOptions(config),
    ...(config.kafkaSaslMechanism === 'none'
      ? {}
      : { sasl: { mechanism: config.kafkaSaslMechanism, username: config.kafkaSaslUsername ?? '', password: config.kafkaSaslPassword ?? '' } as SASLOptions }),
    logLevel: kafkaLogLevel.WARN,
    logCreator: kafkajsLogCreator(rootLog)
  })
}
