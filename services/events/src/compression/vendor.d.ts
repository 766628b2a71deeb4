// Types for the two pure-JavaScript codec libraries, which ship none.

declare module 'snappyjs' {
  /** Raw Snappy (no framing); returns the input's type. */
  export function compress<T extends Uint8Array | ArrayBuffer> (input: T): T
  export function uncompress<T extends Uint8Array | ArrayBuffer> (input: T, maxLength?: number): T
  const snappy: { compress: typeof compress, uncompress: typeof uncompress }
  export default snappy
}

declare module 'lz4js' {
  /** An LZ4 frame (4 MiB blocks, no content checksum). */
  export function compress (src: Uint8Array, maxSize?: number): Uint8Array
  /** Decompresses one raw LZ4 block into dst at dIndex; returns the new end index. */
  export function decompressBlock (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number
  const lz4: { compress: typeof compress, decompressBlock: typeof decompressBlock }
  export default lz4
}
