/**
 * Zig-zag varints as Kafka's record format (magic v2) writes them: the
 * length, deltas, key, value and header fields of every record.
 */

/** Reads one zig-zag varint (up to 64 bits) at `at`; undefined past the end or on an overlong encoding. */
export function readVarint (bytes: Uint8Array, at: number): { value: number, next: number } | undefined {
  // Lengths and deltas fit in four bytes (28 bits): plain numbers, no BigInt.
  let small = 0
  for (let i = at; i < bytes.length && i < at + 4; i++) {
    const b = bytes[i] as number
    small |= (b & 0x7f) << (7 * (i - at))
    if ((b & 0x80) === 0) return { value: (small >>> 1) ^ -(small & 1), next: i + 1 }
  }
  return readLongVarint(bytes, at)
}

function readLongVarint (bytes: Uint8Array, at: number): { value: number, next: number } | undefined {
  let raw = 0n
  let shift = 0n
  for (let i = at; i < bytes.length && shift < 70n; i++) {
    const b = bytes[i] as number
    raw |= BigInt(b & 0x7f) << shift
    shift += 7n
    if ((b & 0x80) === 0) {
      const value = (raw >> 1n) ^ -(raw & 1n)
      return { value: Number(value), next: i + 1 }
    }
  }
  return undefined
}

/** The zig-zag varint encoding of a 32-bit signed integer. */
export function writeVarint (value: number): Buffer {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0
  const out: number[] = []
  while (zigzag > 0x7f) {
    out.push((zigzag & 0x7f) | 0x80)
    zigzag >>>= 7
  }
  out.push(zigzag)
  return Buffer.from(out)
}
