// What the Redis state store adds over the in-memory one, in the same process: per-request latency
// of whoami on each lane (token verified, activation and limits checked, audit written), and the
// gateway's RSS growth for 10,000 open 2025-lane sessions.
// `tsx bench/state-store.ts [calls] [sessions]`; needs the machine's Redis on 127.0.0.1:6379.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { INITIALIZE, postMcp } from '../test/e2e/support/raw-http.js'
import { startE2E } from '../test/e2e/support/start-e2e.js'
import { measureWhoami, type Caller } from './lib/measure-whoami.js'

const CALLS = Number(process.argv[2] ?? 300)
const SESSIONS = Number(process.argv[3] ?? 10_000)
const PER_SUBJECT = 16

const measure = (client: Caller) => measureWhoami(client, CALLS)

const rssMb = (): number => process.memoryUsage().rss / 2 ** 20

async function run(mode: 'memory' | 'redis'): Promise<void> {
  const keyPrefix = `airlock-bench-${randomBytes(4).toString('hex')}:`
  const state = mode === 'memory' ? { kind: 'memory' as const } : { kind: 'redis' as const, url: 'redis://127.0.0.1:6379', keyPrefix }
  const e2e = await startE2E({ config: { state, sessions: { idleTimeoutSeconds: 3600, maxPerSubject: PER_SUBJECT, maxTotal: SESSIONS + 100 }, unauthenticatedLimit: { enabled: false } } })
  try {
    const token = await e2e.token('alice', ['dba'])
    const legacy = await measure((await e2e.connect(token)).client)
    const modern = await measure(await e2e.connectModern(token))
    console.log(`${mode.padEnd(6)} 2025 lane  median ${legacy.median.toFixed(2)} ms  p90 ${legacy.p90.toFixed(2)} ms`)
    console.log(`${mode.padEnd(6)} 2026 lane  median ${modern.median.toFixed(2)} ms  p90 ${modern.p90.toFixed(2)} ms`)

    const tokens = await Promise.all(Array.from({ length: Math.ceil(SESSIONS / PER_SUBJECT) }, (_, i) => e2e.token(`bench-${i}`, ['dba'])))
    global.gc?.()
    const before = rssMb()
    let opened = 0
    for (let batch = 0; batch < SESSIONS; batch += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SESSIONS - batch) }, async (_, j) => {
          const response = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${tokens[Math.floor((batch + j) / PER_SUBJECT)]}` })
          if (response.status === 200) opened++
        }),
      )
    }
    global.gc?.()
    console.log(`${mode.padEnd(6)} ${opened} sessions: RSS ${before.toFixed(0)} → ${rssMb().toFixed(0)} MB (+${(rssMb() - before).toFixed(0)} MB), store counts ${await e2e.gateway.gateway.sessions.count()}`)
  } finally {
    await e2e.close()
    if (mode === 'redis') {
      const redis = new Redis('redis://127.0.0.1:6379')
      const keys = await redis.keys(`${keyPrefix}*`)
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500))
      redis.disconnect()
    }
  }
}

await run('memory')
await run('redis')
