// npx tsx bench/oauth-sign-in.ts: how long the MCP SDK's OAuth client takes to sign in to the sandbox,
// from the gateway's first 401 to the first tool result (discovery, registration, the login page
// driven over HTTP, code exchange, connect, tools/list, whoami). The first run pays the cold start.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client'
import { startSandbox } from '../src/cli/start-sandbox.js'
import { MemoryOAuthProvider } from '../test/e2e/support/memory-oauth-provider.js'
import { signInAs } from '../test/support/login-browser.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const cwd = await mkdtemp(join(tmpdir(), 'airlock-bench-oauth-'))
const sandbox = await startSandbox({ cwd, port: 0 })
const url = new URL(sandbox.gatewayUrl)

async function signIn(user: string): Promise<number> {
  const provider = new MemoryOAuthProvider('http://127.0.0.1:33420/oauth/callback')
  let first401 = Number.NaN
  const watch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (response.status === 401 && Number.isNaN(first401)) first401 = performance.now()
    return response
  }
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: watch })
  try {
    await new Client({ name: 'bench', version: '1.0.0' }).connect(transport)
    throw new Error('connected without signing in')
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error
  }
  const authorization = provider.redirects[0]
  if (authorization === undefined) throw new Error('no authorization URL')
  await transport.finishAuth((await signInAs(user, authorization)).callback.searchParams)
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
  await client.listTools()
  const result = await client.callTool({ name: 'whoami', arguments: {} })
  const elapsed = performance.now() - first401
  await client.close()
  if (result.isError === true) throw new Error('whoami failed')
  return elapsed
}

try {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push(await signIn(i % 2 === 0 ? 'alice' : 'bob'))
  const [cold = 0, ...warm] = times
  warm.sort((a, b) => a - b)
  const at = (q: number) => warm[Math.min(warm.length - 1, Math.floor(q * warm.length))] ?? 0
  console.log(`OAuth sign-in, first 401 → first tool result (${RUNS} runs): cold ${cold.toFixed(0)} ms; then median ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, min ${(warm[0] ?? 0).toFixed(0)} ms, max ${(warm.at(-1) ?? 0).toFixed(0)} ms`)
} finally {
  await sandbox.close()
  await rm(cwd, { recursive: true, force: true })
}
