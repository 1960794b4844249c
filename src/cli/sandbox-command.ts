import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { z } from 'zod'
import type { CliCommand, CliIo } from './cli-io.js'
import { formatLogLine } from './format-log-line.js'
import { untilShutdown } from './serve-command.js'
import { startSandbox, type Sandbox, type SandboxCluster } from './start-sandbox.js'

const trailEntrySchema = z.looseObject({
  at: z.string(),
  service: z.string(),
  action: z.string(),
  principalArn: z.string(),
  sourceIdentity: z.string().optional(),
  outcome: z.string(),
})

/** Where the audit goes: the file of the single gateway, or the replicas' shared PostgreSQL table. */
function auditLines(sandbox: Sandbox, rel: (p: string) => string): string {
  const { cluster } = sandbox
  if (cluster === undefined) return `  Audit log       ${rel(sandbox.paths.audit)}   (npx airlock audit verify ${rel(sandbox.paths.audit)})`
  const replicas = sandbox.replicas.map((r, i) => `replica ${i + 1} ${r.origin}`).join(', ')
  return [
    `  Replicas        ${cluster.replicas} behind a round-robin balancer (${replicas}), state in Redis ${cluster.redisUrl}`,
    `  Audit          PostgreSQL table ${cluster.auditTable}   (npx airlock audit verify --postgres ${cluster.postgresUrl} --table ${cluster.auditTable})`,
  ].join('\n')
}

/** How to connect, printed once the sandbox is up. */
export function connectInstructions(sandbox: Sandbox, cwd: string): string {
  const url = sandbox.gatewayUrl
  const rel = (p: string) => relative(cwd, p) || p
  return `
Airlock sandbox is running. Ctrl-C stops everything.

  MCP endpoint    ${url}
  Metrics, health ${sandbox.adminUrl}/metrics  ${sandbox.adminUrl}/readyz
  OIDC issuer     ${sandbox.idp.issuer}   (dev IdP: alice = dba, bob = sre, mallory = no groups)
${auditLines(sandbox, rel)}
  AWS call trail  ${rel(sandbox.paths.trail)}   (npx airlock sandbox trail)

A fresh access token (printed alone, valid 10 minutes):
  npx airlock token alice

MCP Inspector (UI): npx @modelcontextprotocol/inspector
  Transport "Streamable HTTP", URL ${url},
  Authentication: header "Authorization" = "Bearer <output of npx airlock token alice>"
MCP Inspector (CLI):
  npx @modelcontextprotocol/inspector --cli ${url} --transport http \\
    --header "Authorization: Bearer $(npx airlock token alice)" --method tools/list

Claude Code:
  claude mcp add --transport http airlock ${url} --header "Authorization: Bearer $(npx airlock token alice)"

Try: alice → sql_query on orders-db (read-only, emails masked); bob → ssm_run on web-fleet and
kubectl on demo-cluster (a pod in namespace shop is crash-looping); mallory → whoami only.
`
}

async function printTrail(io: CliIo): Promise<number> {
  let text: string
  try {
    text = await readFile(join(io.cwd, '.airlock', 'trail.jsonl'), 'utf8')
  } catch {
    io.stderr('airlock: no sandbox trail here: start the sandbox with npm start\n')
    return 1
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const parsed = trailEntrySchema.safeParse(JSON.parse(line))
    if (!parsed.success) continue
    const e = parsed.data
    io.stdout(`${e.at}  ${e.service}:${e.action}  ${e.outcome}  by ${e.principalArn}${e.sourceIdentity === undefined ? '' : `  source-identity=${e.sourceIdentity}`}\n`)
  }
  return 0
}

const USAGE = 'usage: airlock sandbox [--port <0-65535>] [--replicas <1-8> [--redis <url>] [--postgres <url>]] | airlock sandbox trail\n'

/** The value after `flag`, or `fallback` when the flag is absent. */
function flagValue(argv: readonly string[], flag: string, fallback: string | undefined): string | undefined {
  const index = argv.indexOf(flag)
  return index >= 0 ? argv[index + 1] : fallback
}

/** Replicas share the machine's Redis and PostgreSQL (override with --redis / --postgres). */
function clusterOf(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SandboxCluster | undefined | 'invalid' {
  const replicas = Number(flagValue(argv, '--replicas', '1'))
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) return 'invalid'
  if (replicas === 1) return undefined
  const redisUrl = flagValue(argv, '--redis', env.AIRLOCK_SANDBOX_REDIS_URL ?? 'redis://127.0.0.1:6379')
  const postgresUrl = flagValue(argv, '--postgres', env.AIRLOCK_SANDBOX_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
  if (redisUrl === undefined || postgresUrl === undefined) return 'invalid'
  return { replicas, redisUrl, postgresUrl, auditTable: 'airlock_sandbox_audit', keyPrefix: 'airlock-sandbox:' }
}

/** `airlock sandbox [--port N] [--replicas N]` runs everything locally; `airlock sandbox trail` prints the AWS call trail. */
export const sandboxCommand: CliCommand = async function sandbox(argv, io) {
  if (argv[0] === 'trail') return printTrail(io)
  const port = Number(flagValue(argv, '--port', io.env.AIRLOCK_SANDBOX_PORT ?? '8080'))
  const cluster = clusterOf(argv, io.env)
  if (!Number.isInteger(port) || port < 0 || port > 65535 || cluster === 'invalid') {
    io.stderr(USAGE)
    return 2
  }
  io.stderr('starting the sandbox: dev IdP, STS, RDS Data API, SSM, EKS, Kubernetes API, gateway…\n')
  let running: Sandbox
  try {
    running = await startSandbox({ cwd: io.cwd, port, ...(cluster === undefined ? {} : { cluster }), onGatewayLog: (line) => io.stderr(`${formatLogLine(line)}\n`) })
  } catch (error) {
    io.stderr(`airlock: the sandbox could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
  io.stdout(connectInstructions(running, io.cwd))
  await untilShutdown(io.shutdown)
  io.stderr('stopping the sandbox…\n')
  await running.close()
  return 0
}
