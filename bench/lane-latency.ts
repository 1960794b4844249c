// Per-request latency of whoami on each protocol lane: median and p90 of sequential calls through
// the real gateway (token verified, policy evaluated, audit written) with the official clients.
// `tsx bench/lane-latency.ts [calls]`; on a tree without the 2026-07-28 lane only the 2025 lane runs.
import { startE2E } from '../test/e2e/support/start-e2e.js'
import { measureWhoami, type Caller } from './lib/measure-whoami.js'

const CALLS = Number(process.argv[2] ?? 300)

const measure = (client: Caller) => measureWhoami(client, CALLS)

const e2e = await startE2E()
try {
  const token = await e2e.token('alice', ['dba'])
  const lanes: Array<[string, () => Promise<Caller>]> = [['2025 lane (v1 client, session)', async () => (await e2e.connect(token)).client]]
  if ('connectModern' in e2e && typeof e2e.connectModern === 'function') {
    const connectModern: (token: string) => Promise<Caller> = e2e.connectModern
    lanes.push(['2026-07-28 lane (v2 client, pinned)', () => connectModern(token)])
  }
  for (const [name, connect] of lanes) {
    const { median, p90 } = await measure(await connect())
    console.log(`${name.padEnd(38)} median ${median.toFixed(2)} ms  p90 ${p90.toFixed(2)} ms  (${CALLS} calls)`)
  }
} finally {
  await e2e.close()
}
