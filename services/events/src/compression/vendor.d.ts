// Types for the two pure-JavaScript codec libraries, which ship none.

declare module 'snappyjs' {
  /** Raw Snappy (no framing); returns the input's type. */
  export function compress<T extends Uint8Array | ArrayBuffer> (input: T): T
  export function uncompress<T extends Uint8Array | ArrayBuffer> (input: T, maxLength?: number): T
  const snappy: { compress: typeof compress, uncompress: typeof uncompress }
  export default snappy
}

declare module 'lz4js' {
  /** Compresses src[sIndex, sIndex + sLength) into dst as one raw LZ4 block; 0 when it does not compress. `hashTable`: 65536 zeros. */
  export function compressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number
  /** Decompresses one raw LZ4 block into dst at dIndex; returns the new end index. */
  export function decompressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number
  const lz4: { compressBlock: typeof compressBlock, decompressBlock: typeof decompressBlock }
  export default lz4
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of src[index, index + length). */
  export function hash (seed: number, src: Uint8Array, index: number, length: number): number
  const xxhash: { hash: typeof hash }
  export default xxhash
}
