/**
 * A small seeded pseudo-random generator (sfc32, seeded through
 * splitmix32) so a simulator run is reproducible from its seed. Not for
 * anything secret.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next: () => number
  /** Uniform integer in [0, n). */
  int: (n: number) => number
  /** True with probability p. */
  chance: (p: number) => boolean
  pick: <T>(items: readonly T[]) => T
  /** A version-4 UUID made of this generator's bits. */
  uuid: () => string
}

export function createRandom (seed: number): Random {
  let s = seed >>> 0
  const splitmix32 = (): number => {
    s = (s + 0x9e3779b9) | 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix32()
  let b = splitmix32()
  let c = splitmix32()
  let d = splitmix32()
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  // Warm-up, as sfc32's authors recommend.
  for (let i = 0; i < 12; i++) nextUint32()

  const random: Random = {
    next: () => nextUint32() / 0x1_0000_0000,
    int: (n) => Math.floor(random.next() * n),
    chance: (p) => random.next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('cannot pick from an empty list')
      return items[random.int(items.length)] as T
    },
    uuid: () => {
      const bytes = Buffer.alloc(16)
      for (let i = 0; i < 16; i += 4) bytes.writeUInt32BE(nextUint32(), i)
      bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40
      bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
      const hex = bytes.toString('hex')
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    }
  }
  return random
}
