import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { z } from 'zod'
import type { CliCommand, CliIo } from './cli-io.js'
import { formatLogLine } from './format-log-line.js'
import { untilShutdown } from './serve-command.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'
import { assertNoSandbox, assertPortFree, SandboxError } from './sandbox-lock.js'
import type { Sandbox, SandboxCluster } from './start-sandbox.js'

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
  if (cluster === undefined) return `  Audit log       ${rel(sandbox.paths.audit)}   (npx --no-install airlock audit verify ${rel(sandbox.paths.audit)})`
  const replicas = sandbox.replicas.map((r, i) => `replica ${i + 1} ${r.origin}`).join(', ')
  return [
    `  Replicas        ${cluster.replicas} behind a round-robin balancer (${replicas}), state in Redis ${cluster.redisUrl}`,
    `  Audit          PostgreSQL table ${cluster.auditTable}   (npx --no-install airlock audit verify --postgres ${cluster.postgresUrl} --table ${cluster.auditTable})`,
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
  Approvals page  ${sandbox.adminUrl}/approvals   (sign in as carol to decide bob's requests)
  OIDC issuer     ${sandbox.idp.issuer}   (dev IdP: alice = dba, bob = sre, carol = sre-leads, mallory = no groups)
${auditLines(sandbox, rel)}
  AWS call trail  ${rel(sandbox.paths.trail)}   (npx --no-install airlock sandbox trail)

Clients that sign in with OAuth (Claude Code, MCP Inspector, mcp-remote) need only the URL;
pick alice, bob, carol or mallory on the dev IdP's login page:
  claude mcp add --transport http airlock ${url}

Scripts: a header token (alone on stdout; 10 minutes, --ttl up to 1h; expiry on stderr):
  npx --no-install airlock token alice --ttl 1h
  npx --no-install mcp-remote-client ${url} \\
    --header "Authorization: Bearer $(npx --no-install airlock token alice)"

Try: alice → sql_query on orders-db (read-only, emails masked); bob → ssm_run on web-fleet and
kubectl on demo-cluster (a pod in namespace shop is crash-looping); a restart of payments waits
for carol (sre-leads) to approve it with list_requests/review_request or
npx --no-install airlock approvals; mallory → whoami only.
`
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
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
    // A line still being appended is not JSON yet: skip it rather than fail.
    const parsed = trailEntrySchema.safeParse(parseJson(line))
    if (!parsed.success) continue
    const e = parsed.data
    io.stdout(`${e.at}  ${e.service}:${e.action}  ${e.outcome}  by ${e.principalArn}${e.sourceIdentity === undefined ? '' : `  source-identity=${e.sourceIdentity}`}\n`)
  }
  return 0
}

/** Replicas share the machine's Redis and PostgreSQL (override with --redis / --postgres). */
function clusterOf(
  flags: { readonly replicas?: string | undefined; readonly redis?: string | undefined; readonly postgres?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): SandboxCluster | undefined | 'invalid' {
  const replicas = Number(flags.replicas ?? '1')
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) return 'invalid'
  if (replicas === 1) return undefined
  const redisUrl = flags.redis ?? env.AIRLOCK_SANDBOX_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const postgresUrl = flags.postgres ?? env.AIRLOCK_SANDBOX_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  return { replicas, redisUrl, postgresUrl, auditTable: 'airlock_sandbox_audit', keyPrefix: 'airlock-sandbox:' }
}

/** `airlock sandbox [--port N] [--replicas N]` runs everything locally; `airlock sandbox trail` prints the AWS call trail. */
export const sandboxCommand: CliCommand = async function sandbox(argv, io) {
  if (argv[0] === 'trail') {
    if (parseFlags(argv.slice(1), {}, 'sandbox trail', io, false) === undefined) return USAGE_ERROR
    return printTrail(io)
  }
  const parsed = parseFlags(argv, { port: { type: 'string' }, replicas: { type: 'string' }, redis: { type: 'string' }, postgres: { type: 'string' } }, 'sandbox', io, false)
  if (parsed === undefined) return USAGE_ERROR
  const { values } = parsed
  const port = Number(values.port ?? io.env.AIRLOCK_SANDBOX_PORT ?? '8080')
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usageError(io, 'sandbox', '--port: expected a port from 0 to 65535')
  const cluster = clusterOf(values, io.env)
  if (cluster === 'invalid') return usageError(io, 'sandbox', '--replicas: expected 1 to 8')
  if (cluster === undefined && (values.redis !== undefined || values.postgres !== undefined)) return usageError(io, 'sandbox', '--redis and --postgres go with --replicas 2 or more')
  let running: Sandbox
  try {
    // Refuse before loading anything: startSandbox checks again, under the lock.
    await assertNoSandbox(io.cwd, join(io.cwd, '.airlock'))
    await assertPortFree(port)
    io.stderr('starting the sandbox: dev IdP, STS, RDS Data API, SSM, EKS, Kubernetes API, gateway…\n')
    // Loaded only now: the emulators and the dev IdP (which warns on Node 20) are not needed to refuse arguments.
    const { startSandbox } = await import('./start-sandbox.js')
    running = await startSandbox({ cwd: io.cwd, port, ...(cluster === undefined ? {} : { cluster }), onGatewayLog: (line) => io.stderr(`${formatLogLine(line)}\n`) })
  } catch (error) {
    // A refusal (another sandbox here, a port in use) is one line of its own; anything else says what failed.
    const why = error instanceof SandboxError ? error.message : `the sandbox could not start: ${error instanceof Error ? error.message.split('\n')[0] : 'unknown error'}`
    io.stderr(`airlock: ${why}\n`)
    return 1
  }
  io.stdout(connectInstructions(running, io.cwd))
  await untilShutdown(io.shutdown)
  io.stderr('stopping the sandbox…\n')
  await running.close()
  return 0
}
