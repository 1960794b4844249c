import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { ConfigError } from '../errors.js'

/** Where a running sandbox describes itself, relative to the directory it was started in. */
export const SANDBOX_STATE_FILE = join('.airlock', 'sandbox.json')

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

// The sandbox binds loopback only; a state file pointing elsewhere would send dev secrets off the machine.
const loopbackUrl = z.url({ protocol: /^https?$/ }).refine((value) => LOOPBACK_HOSTS.has(URL.parse(value)?.hostname ?? ''), 'must be a loopback URL')

export const sandboxStateSchema = z.strictObject({
  /** The dev IdP's issuer (`http://127.0.0.1:<port>`). */
  issuer: loopbackUrl,
  tokenEndpoint: loopbackUrl,
  /** The gateway's MCP endpoint (e.g. `http://127.0.0.1:8080/mcp`): also the token audience (RFC 8707 resource). */
  gatewayUrl: loopbackUrl,
  clients: z.array(z.strictObject({ id: z.string().min(1), secret: z.string().min(1) })),
  pid: z.int().positive(),
  startedAt: z.iso.datetime(),
})
export type SandboxState = z.infer<typeof sandboxStateSchema>

export function sandboxStatePath(cwd: string): string {
  return join(cwd, SANDBOX_STATE_FILE)
}

/**
 * Reads the state file of the sandbox started in `cwd`; undefined when there is none.
 * Throws ConfigError CONFIG_INVALID when it exists but is not valid (naming the field).
 */
export async function readSandboxState(cwd: string): Promise<SandboxState | undefined> {
  let text: string
  try {
    text = await readFile(sandboxStatePath(cwd), 'utf8')
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined
    throw new ConfigError('CONFIG_INVALID', `${SANDBOX_STATE_FILE}: cannot read`, { cause: error })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `${SANDBOX_STATE_FILE}: not JSON`, { cause: error })
  }
  const parsed = sandboxStateSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue === undefined || issue.path.length === 0 ? '' : ` ${issue.path.map(String).join('.')}:`
    throw new ConfigError('CONFIG_INVALID', `${SANDBOX_STATE_FILE}:${where} ${issue?.message ?? 'invalid'}`, { cause: parsed.error })
  }
  return parsed.data
}

/** Writes the state file atomically (temp file + rename), readable by the owner only. */
export async function writeSandboxState(cwd: string, state: SandboxState): Promise<void> {
  const valid = sandboxStateSchema.parse(state)
  await mkdir(join(cwd, '.airlock'), { recursive: true, mode: 0o700 })
  const path = sandboxStatePath(cwd)
  const temp = `${path}.${valid.pid}.tmp`
  await writeFile(temp, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o600 })
  await rename(temp, path)
}

/** Removes the state file if it still belongs to `pid`, so a stopping sandbox never erases a newer one's. */
export async function removeSandboxState(cwd: string, pid: number): Promise<void> {
  const current = await readSandboxState(cwd).catch(() => undefined)
  if (current?.pid === pid) await rm(sandboxStatePath(cwd), { force: true })
}
