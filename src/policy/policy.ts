import type { NamedConnection } from './connection-schema.js'
import type { Grant } from './policy-schema.js'

/** The merged, validated policy the gateway enforces; immutable once built. */
export interface Policy {
  readonly connections: ReadonlyMap<string, NamedConnection>
  /** In evaluation order: files in the order given, grants in file order. */
  readonly grants: readonly Grant[]
  /** Which file each connection and grant came from (for messages and `policy explain`). */
  readonly sources: ReadonlyMap<string, string>
}
