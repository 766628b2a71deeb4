import kafkajs, { type CompressionTypes } from 'kafkajs'
import { codecs, compressionIds, compressionNameOf, type BytesCodec, type CompressionName } from './codecs.js'
import { batchHeaderOf, markerRecords, recordsWellFormed } from './undecodable-batch.js'

/** The codec shape kafkajs looks up in `CompressionCodecs`. */
interface KafkajsCodec {
  compress: (encoder: { buffer: Buffer }) => Promise<Buffer>
  decompress: (compressed: Buffer) => Promise<Buffer>
}

/** Kafka reserves codec ids 5–7; a batch carrying one is undecodable, not a crash. */
const UNASSIGNED_CODEC_IDS = [5, 6, 7]

let registered = false

/**
 * Makes every kafkajs client in this process read and write gzip, Snappy,
 * LZ4 and zstd batches, on every topic, and turns a batch it cannot decode
 * into marker records (see undecodable-batch.ts) instead of a failed fetch.
 * kafkajs keeps codecs in one module-wide table, so this is process-wide;
 * call it before the first client connects. Idempotent.
 */
export function registerKafkaCodecs (): void {
  if (registered) return
  registered = true
  // kafkajs is CommonJS and its static exports list lacks CompressionCodecs.
  const table = kafkajs.CompressionCodecs as unknown as Record<number, () => KafkajsCodec>
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const codec = guardedCodec(name, codecs[name])
    table[compressionIds[name]] = () => codec
  }
  for (const id of UNASSIGNED_CODEC_IDS) {
    const codec = unassignedCodec(id)
    table[id] = () => codec
  }
}

/** The kafkajs `compression` value for a config name. */
export function kafkaCompressionType (name: CompressionName): CompressionTypes {
  return compressionIds[name] as CompressionTypes
}

function guardedCodec (name: string, codec: BytesCodec): KafkajsCodec {
  return {
    compress: async (encoder) => await codec.compress(encoder.buffer),
    decompress: async (compressed) => {
      const header = batchHeaderOf(compressed)
      if (header === undefined) return await codec.decompress(compressed)
      if (!header.crcValid) return markerRecords(header, { codec: name, reason: 'crc-mismatch' })
      let records: Buffer
      try {
        records = await codec.decompress(compressed)
      } catch (err) {
        return markerRecords(header, { codec: name, reason: `decompress-failed: ${err instanceof Error ? err.message : String(err)}` })
      }
      if (!recordsWellFormed(records, header.recordCount)) return markerRecords(header, { codec: name, reason: 'malformed-records' })
      return records
    }
  }
}

function unassignedCodec (id: number): KafkajsCodec {
  const name = compressionNameOf(id)
  return {
    compress: async () => { throw new Error(`cannot compress with ${name}: Kafka defines no codec ${id}`) },
    decompress: async (compressed) => {
      const header = batchHeaderOf(compressed)
      if (header === undefined) throw new Error(`record batch with unassigned compression codec ${id}`)
      return markerRecords(header, { codec: name, reason: header.crcValid ? 'unsupported-codec' : 'crc-mismatch' })
    }
  }
}
