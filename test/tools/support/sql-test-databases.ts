import mysql from 'mysql2/promise'
import pg from 'pg'

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URI = 'mysql://root@127.0.0.1:3306/test'

/** Rows both engines hold; one note carries a Luhn-valid card number for the masking tests. */
export const SEED = [
  { id: 1, owner: 'ada', email: 'ada@example.com', balance: '10.50', active: true, note: 'vip' },
  { id: 2, owner: 'bob', email: 'bob@example.org', balance: '0.00', active: false, note: 'card 4111 1111 1111 1111 on file' },
  { id: 3, owner: 'cy', email: null, balance: '99.99', active: true, note: null },
  { id: 4, owner: 'dee', email: 'dee@example.net', balance: '12.00', active: true, note: 'key AKIAIOSFODNN7EXAMPLE' },
  { id: 5, owner: 'eve', email: 'eve@example.com', balance: '5.25', active: false, note: 'plain' },
] as const

/** A scratch table, queried directly (not through the tool) to prove what the tool did or did not do. */
export interface ScratchTable {
  checksum(): Promise<string>
  /** Rows as plain JSON values. */
  query(sql: string): Promise<unknown[]>
  drop(): Promise<void>
}

export async function createPgTable(table: string): Promise<ScratchTable> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(`DROP TABLE IF EXISTS ${table}`)
  await client.query(
    `CREATE TABLE ${table} (id int PRIMARY KEY, owner text NOT NULL, email text, balance numeric(12,2), created timestamptz, active boolean, tags text[], note text)`,
  )
  for (const row of SEED) {
    await client.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, '2024-01-02T03:04:05Z', $5, ARRAY['a','b'], $6)`, [row.id, row.owner, row.email, row.balance, row.active, row.note])
  }
  return {
    async query(sql) {
      return (await client.query(sql)).rows
    },
    async checksum() {
      const res = await client.query<{ sum: string | null }>(`SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM ${table} t`)
      return `${res.rows[0]?.sum ?? 'empty'}`
    },
    async drop() {
      await client.query(`DROP TABLE IF EXISTS ${table}`)
      await client.end()
    },
  }
}

export async function createMysqlTable(table: string): Promise<ScratchTable> {
  const connection = await mysql.createConnection({ uri: MYSQL_URI })
  await connection.query(`DROP TABLE IF EXISTS ${table}`)
  await connection.query(
    `CREATE TABLE ${table} (id INT PRIMARY KEY, owner VARCHAR(100) NOT NULL, email VARCHAR(200), balance DECIMAL(12,2), created DATETIME, active BOOLEAN, note TEXT)`,
  )
  for (const row of SEED) {
    await connection.query(`INSERT INTO ${table} VALUES (?, ?, ?, ?, '2024-01-02 03:04:05', ?, ?)`, [row.id, row.owner, row.email, row.balance, row.active, row.note])
  }
  return {
    async query(sql) {
      const [rows] = await connection.query(sql)
      const plain: unknown = JSON.parse(JSON.stringify(rows))
      return Array.isArray(plain) ? plain : []
    },
    async checksum() {
      const [rows] = await connection.query(
        `SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, owner, IFNULL(email, '-'), balance, created, active, IFNULL(note, '-')) ORDER BY id)) AS sum FROM ${table}`,
      )
      return JSON.stringify(rows)
    },
    async drop() {
      await connection.query(`DROP TABLE IF EXISTS ${table}`)
      await connection.end()
    },
  }
}
