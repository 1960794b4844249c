import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import type { Checksum, SourceData } from '@smithy/types'

/** SHA-256 / HMAC-SHA-256 in the shape `@smithy/signature-v4` wants, for reference signing in tests. */
export class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined
  #hash: Hash | Hmac
  constructor(secret?: SourceData) {
    this.#secret = secret
    this.#hash = NodeSha256.#create(secret)
  }
  static #create(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', NodeSha256.#bytes(secret))
  }
  static #bytes(data: SourceData): Uint8Array | string {
    if (typeof data === 'string') return data
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    return new Uint8Array(data)
  }
  update(data: Uint8Array): void {
    this.#hash.update(data)
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()))
  }
  reset(): void {
    this.#hash = NodeSha256.#create(this.#secret)
  }
}
