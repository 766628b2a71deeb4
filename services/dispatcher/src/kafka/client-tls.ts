import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type { DispatcherConfig } from '../config.js'

type TlsSettings = Pick<DispatcherConfig, 'kafkaSsl' | 'kafkaSslCaFile' | 'kafkaSslCertFile' | 'kafkaSslKeyFile'>

/**
 * kafkajs's `ssl` option from the configuration: false (plain TCP), true
 * (TLS with the system CAs and NODE_EXTRA_CA_CERTS), or TLS options with
 * KAFKA_SSL_CA_FILE's CAs (replacing the system ones, as a private cluster's
 * CA should) and a client certificate for brokers that require mutual TLS
 * (ssl.client.auth=required). The files are read once, at start-up: a
 * renewed certificate takes a restart.
 */
export function kafkaTlsOptions (config: TlsSettings, readFile: (path: string) => Buffer = readFileSync): boolean | ConnectionOptions {
  if (!config.kafkaSsl) return false
  if (config.kafkaSslCaFile === undefined && config.kafkaSslCertFile === undefined) return true
  return {
    ...(config.kafkaSslCaFile === undefined ? {} : { ca: readFile(config.kafkaSslCaFile) }),
    ...(config.kafkaSslCertFile === undefined || config.kafkaSslKeyFile === undefined
      ? {}
      : { cert: readFile(config.kafkaSslCertFile), key: readFile(config.kafkaSslKeyFile) })
  }
}
