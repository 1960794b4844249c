import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import pg from 'pg'
import { createAuditPool } from '../../../src/cli/create-audit-pool.js'

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** A schema of its own for one test file (dropped with everything in it), and a superuser client to inspect and tamper. */
export interface ScratchSchema {
  readonly name: string
  readonly admin: pg.Client
  /** Runs SQL with the append-only triggers bypassed, as an attacker with database rights would. */
  tamper(sql: string, values?: unknown[]): Promise<void>
  drop(): Promise<void>
}

export async function createScratchSchema(prefix = 'audit_t'): Promise<ScratchSchema> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  admin.on('error', () => {})
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA ${name}`)
  } catch (error) {
    await admin.end()
    throw error
  }
  return {
    name,
    admin,
    async tamper(sql, values) {
      await admin.query('BEGIN')
      await admin.query('SET LOCAL session_replication_role = replica')
      await admin.query(sql, values)
      await admin.query('COMMIT')
    },
    async drop() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
      } finally {
        await admin.end()
      }
    },
  }
}

/** The sink's pool as the gateway builds it, with short timeouts for tests. */
export function scratchPool(url = PG_URL, timeoutMs = 2_000): pg.Pool {
  return createAuditPool({ url, poolSize: 4, connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs })
}

export function ed25519Pair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519')
}
