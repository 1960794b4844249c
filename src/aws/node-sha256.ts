import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import type { Checksum, SourceData } from '@smithy/types'

/** SHA-256 / HMAC-SHA-256 in the shape `@smithy/signature-v4` wants, from node:crypto. */
export class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined
  #hash: Hash | Hmac
  constructor(secret?: SourceData) {
    this.#secret = secret
    this.#hash = NodeSha256.#make(secret)
  }
  static #make(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret))
  }
  update(data: Uint8Array): void {
    this.#hash.update(data)
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
  reset(): void {
    this.#hash = NodeSha256.#make(this.#secret)
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}
