import type { PGlite } from '@electric-sql/pglite'
import { failedPaymentTimes, sqlTimestamp } from '../demo-incident.js'
import { createPgliteBackend } from './pglite-backend.js'
import type { SqlBackend, SqlParameter, StatementOptions } from './rds-data-types.js'

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis']
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Ritchie']
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'refunded'] as const
export const DEMO_CUSTOMER_COUNT = 20
/** Ordinary orders, then the incident's hour: a few paid orders and a burst of failed payments. */
export const DEMO_ORDER_COUNT = 60
export const DEMO_INCIDENT_PAID_ORDERS = 6
export const DEMO_INCIDENT_FAILED_ORDERS = 18

const OPTIONS: StatementOptions = { readOnly: false, timeoutMs: 60_000, continueAfterTimeout: false }
const BASE_MS = Date.UTC(2025, 0, 6, 9, 0, 0)
/** When the incident is placed unless the caller says when the sandbox started. */
const DEFAULT_NOW_MS = Date.UTC(2025, 2, 10, 14, 0, 0)

/** `prefix` (digits only) completed with its Luhn check digit. */
export function withLuhnCheckDigit(prefix: string): string {
  let sum = 0
  for (let i = 0; i < prefix.length; i++) {
    // Doubling starts at the digit next to the (missing) check digit.
    let digit = Number(prefix[prefix.length - 1 - i])
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2
    sum += digit
  }
  return `${prefix}${(10 - (sum % 10)) % 10}`
}

const DDL = {
  postgres: [
    `CREATE TABLE IF NOT EXISTS customers (
      id integer PRIMARY KEY, name text NOT NULL, email text NOT NULL UNIQUE, phone text NOT NULL,
      card_number text, created_at timestamp NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS orders (
      id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id), total numeric(10,2) NOT NULL,
      status text NOT NULL, created_at timestamp NOT NULL)`,
  ],
  mysql: [
    `CREATE TABLE IF NOT EXISTS customers (
      id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL UNIQUE, phone VARCHAR(40) NOT NULL,
      card_number VARCHAR(19), created_at DATETIME NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS orders (
      id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL,
      status VARCHAR(20) NOT NULL, created_at DATETIME NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers(id))`,
  ],
} as const

const stamp = sqlTimestamp

/** The demo customers: same rows every time (emails, phones and card numbers to show masking). */
export function demoCustomers(): { id: number; name: string; email: string; phone: string; cardNumber: string | null; createdAt: string }[] {
  return Array.from({ length: DEMO_CUSTOMER_COUNT }, (_, i) => {
    const first = FIRST[i % FIRST.length] ?? 'Ada'
    const last = LAST[(i * 3 + 1) % LAST.length] ?? 'Lovelace'
    const id = i + 1
    return {
      id,
      name: `${first} ${last}`,
      email: `${first}.${last}${id}@example.com`.toLowerCase(),
      phone: `+1-555-01${String(id).padStart(2, '0')}`,
      // Test card numbers only (the 4111 1111 test range, each with its Luhn check digit, so the
      // card detector recognises them), and some customers have none.
      cardNumber: id % 4 === 0 ? null : withLuhnCheckDigit(`411111111111${String(100 + id * 7).slice(-3)}`).replace(/(\d{4})(?=\d)/g, '$1-'),
      createdAt: stamp(BASE_MS + i * 86_400_000),
    }
  })
}

/**
 * The demo orders: three per customer on average, deterministic totals and statuses; then, for a
 * sandbox started at `now`, the incident's hour: a few paid orders before it and a burst of
 * `payment_failed` orders at the instants payments was down (see failedPaymentTimes).
 */
export function demoOrders(now: number = DEFAULT_NOW_MS): { id: number; customerId: number; total: string; status: string; createdAt: string }[] {
  const ordinary = Array.from({ length: DEMO_ORDER_COUNT }, (_, i) => ({
    id: i + 1,
    customerId: ((i * 7) % DEMO_CUSTOMER_COUNT) + 1,
    total: ((i * 1373) % 50_000 / 100 + 5).toFixed(2),
    status: STATUSES[i % STATUSES.length] ?? 'pending',
    createdAt: stamp(BASE_MS + 30 * 86_400_000 + i * 3_600_000 * 7),
  }))
  const failed = failedPaymentTimes(now)
  const firstFailure = failed[0] ?? now
  const paid = Array.from({ length: DEMO_INCIDENT_PAID_ORDERS }, (_, i) => firstFailure - (DEMO_INCIDENT_PAID_ORDERS - i) * 6 * 60_000)
  const incident = [...paid.map((at) => ({ at, status: 'paid' })), ...failed.map((at) => ({ at, status: 'payment_failed' }))]
  return [
    ...ordinary,
    ...incident.map(({ at, status }, i) => ({
      id: DEMO_ORDER_COUNT + i + 1,
      customerId: ((i * 3) % DEMO_CUSTOMER_COUNT) + 1,
      total: ((i * 977) % 20_000 / 100 + 12).toFixed(2),
      status,
      createdAt: stamp(at),
    })),
  ]
}

const str = (name: string, value: string, typeHint?: 'TIMESTAMP' | 'DECIMAL'): SqlParameter => ({
  name,
  value: { stringValue: value },
  ...(typeHint === undefined ? {} : { typeHint }),
})

/**
 * Creates the demo schema (customers, orders) and fills it once with deterministic rows, the
 * incident's orders placed relative to `options.now` (when the sandbox started).
 * Accepts any backend, or a PGlite instance (the sandbox default).
 */
export async function seedDemoDatabase(target: SqlBackend | PGlite, options: { readonly now?: number } = {}): Promise<void> {
  const backend = 'engine' in target ? target : createPgliteBackend({ db: target })
  for (const ddl of DDL[backend.engine]) await backend.execute(ddl, [], OPTIONS)
  const existing = await backend.execute('SELECT count(*) FROM customers', [], OPTIONS)
  const first = existing.rows[0]?.[0]
  if (first !== undefined && 'longValue' in first && first.longValue > 0) return
  const tx = await backend.begin({ readOnly: false })
  try {
    for (const c of demoCustomers()) {
      await tx.execute(
        'INSERT INTO customers (id, name, email, phone, card_number, created_at) VALUES (:id, :name, :email, :phone, :card, :created)',
        [
          { name: 'id', value: { longValue: c.id } },
          str('name', c.name),
          str('email', c.email),
          str('phone', c.phone),
          c.cardNumber === null ? { name: 'card', value: { isNull: true } } : str('card', c.cardNumber),
          str('created', c.createdAt, 'TIMESTAMP'),
        ],
        OPTIONS,
      )
    }
    for (const o of demoOrders(options.now)) {
      await tx.execute(
        'INSERT INTO orders (id, customer_id, total, status, created_at) VALUES (:id, :customer, :total, :status, :created)',
        [
          { name: 'id', value: { longValue: o.id } },
          { name: 'customer', value: { longValue: o.customerId } },
          str('total', o.total, 'DECIMAL'),
          str('status', o.status),
          str('created', o.createdAt, 'TIMESTAMP'),
        ],
        OPTIONS,
      )
    }
    await tx.commit()
  } catch (err) {
    await tx.rollback().catch(() => undefined)
    throw err
  }
}
