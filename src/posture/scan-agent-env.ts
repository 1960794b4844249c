import { readdir, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { scanText } from './scan-text.js'
import { fail, pass, warn, maskSecret, type PostureCheck } from './posture-check.js'

export interface AgentEnvInput {
  /** The agent's environment (the CLI passes its own). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The agent's working directory (project-level configs such as `.mcp.json`). */
  readonly cwd: string
  /** More files or directories to scan. */
  readonly paths?: readonly string[]
}

/** Variables that hand AWS credentials (or a way to get them) to whatever runs in this environment. */
const CREDENTIAL_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
] as const

const MAX_FILE_BYTES = 2 * 1024 * 1024
const MAX_DIR_FILES = 200

/** Config locations an agent (or the tools it runs) reads, relative to HOME or the working directory. */
const HOME_FILES = [
  '.aws/credentials',
  '.aws/config',
  '.env',
  '.claude.json',
  '.cursor/mcp.json',
  '.codeium/windsurf/mcp_config.json',
  '.config/Claude/claude_desktop_config.json',
  'Library/Application Support/Claude/claude_desktop_config.json',
  '.bashrc',
  '.bash_profile',
  '.profile',
  '.zshrc',
  '.zprofile',
  '.zshenv',
  '.config/fish/config.fish',
]
const CWD_FILES = ['.env', '.env.local', '.env.development', '.env.production', '.mcp.json', '.cursor/mcp.json', '.vscode/mcp.json']
/** Any file here is cached credential material (SSO access tokens, assumed-role credentials). */
const HOME_CACHE_DIRS = ['.aws/sso/cache', '.aws/cli/cache']

/**
 * Looks for AWS key material an agent could use directly: credential environment variables and
 * key ids/secrets/tokens/credential_process/SSO in AWS config, .env files, MCP client configs and
 * shell profiles, plus cached SSO/CLI credentials. Every finding is a FAIL naming where it was
 * found, with values masked. Never throws.
 */
export async function scanAgentEnv(input: AgentEnvInput): Promise<PostureCheck[]> {
  const checks: PostureCheck[] = []
  let filesRead = 0
  for (const name of CREDENTIAL_VARS) {
    const value = input.env[name]
    if (value !== undefined && value !== '') checks.push(fail('agent-env.variable', `${name} is set (${maskSecret(value)})`, `environment: ${name}`))
  }
  for (const [name, value] of Object.entries(input.env)) {
    if (value === undefined || (CREDENTIAL_VARS as readonly string[]).includes(name)) continue
    for (const hit of scanText(`${name}=${value}`)) checks.push(fail('agent-env.variable', `${hit.kind} in ${name} (${hit.masked})`, `environment: ${name}`))
  }

  const home = input.env['HOME'] ?? input.env['USERPROFILE']
  const files = new Set<string>()
  if (home !== undefined && home !== '') for (const f of HOME_FILES) files.add(join(home, f))
  for (const f of CWD_FILES) files.add(resolve(input.cwd, f))
  for (const name of ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE']) {
    const value = input.env[name]
    if (value !== undefined && value !== '') files.add(isAbsolute(value) ? value : resolve(input.cwd, value))
  }
  const extraDirs: string[] = []
  for (const p of input.paths ?? []) {
    const absolute = resolve(input.cwd, p)
    const info = await stat(absolute).catch(() => undefined)
    if (info === undefined) checks.push(warn('agent-env.unreadable', `cannot read ${p}`, p))
    else if (info.isDirectory()) extraDirs.push(absolute)
    else files.add(absolute)
  }
  for (const dir of extraDirs) for (const f of await listFiles(dir)) files.add(f)

  for (const file of [...files].sort()) {
    const text = await readSmallFile(file)
    if (text === undefined) continue
    filesRead += 1
    for (const hit of scanText(text)) {
      checks.push(fail('agent-env.file', `${hit.kind}${hit.masked === '' ? '' : ` (${hit.masked})`}`, `${display(file, home)}:${hit.line}`))
    }
  }
  if (home !== undefined && home !== '') {
    for (const dir of HOME_CACHE_DIRS) {
      const cached = await listFiles(join(home, dir))
      if (cached.length > 0) {
        checks.push(fail('agent-env.cache', `${cached.length} cached credential file(s) (SSO tokens or assumed-role credentials)`, display(join(home, dir), home)))
      }
    }
  }
  if (!checks.some((c) => c.status === 'FAIL')) {
    checks.push(pass('agent-env', `no AWS key material found (environment and ${filesRead} config file(s) checked)`))
  }
  return checks
}

function display(file: string, home: string | undefined): string {
  return home !== undefined && home !== '' && file.startsWith(home + '/') ? `~/${file.slice(home.length + 1)}` : file
}

async function readSmallFile(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file)
    if (!info.isFile() || info.size > MAX_FILE_BYTES) return undefined
    return await readFile(file, 'utf8')
  } catch {
    return undefined
  }
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries.filter((e) => e.isFile()).slice(0, MAX_DIR_FILES).map((e) => join(dir, e.name)).sort()
  } catch {
    return []
  }
}
