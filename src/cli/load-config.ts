import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { z } from 'zod'
import { gatewayConfigSchema, type GatewayConfig } from '../config.js'
import { ConfigError } from '../errors.js'

/** Environment variables that override the config file (the usual deployment knobs). */
export const ENV_OVERRIDES = {
  AIRLOCK_ISSUER: 'issuer',
  AIRLOCK_AUDIENCE: 'audience',
  AIRLOCK_GROUPS_CLAIM: 'groupsClaim',
  AIRLOCK_PUBLIC_URL: 'publicUrl',
  AIRLOCK_LISTEN_HOST: 'listen.host',
  AIRLOCK_LISTEN_PORT: 'listen.port',
  AIRLOCK_POLICY: 'policy',
  AIRLOCK_AUDIT_SINK: 'audit.sink',
  AIRLOCK_AUDIT_PATH: 'audit.path',
  AIRLOCK_AUDIT_CHECKPOINT_KEY_FILE: 'audit.checkpoint.keyFile',
  AIRLOCK_ALLOWED_ORIGINS: 'allowedOrigins',
  AIRLOCK_ADMIN_HOST: 'admin.host',
  AIRLOCK_ADMIN_PORT: 'admin.port',
  // Connection URLs carry passwords: deployments pass them from a Secret, never in the config file.
  AIRLOCK_STATE_URL: 'state.url',
  AIRLOCK_AUDIT_URL: 'audit.url',
} as const

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '')
}

/** One line per problem: `config.json: listen.port: expected a number` (env overrides name the variable). */
export function formatConfigIssues(source: string, error: z.ZodError, fromEnv: ReadonlyMap<string, string>): string[] {
  /** The variable that set `key` or something inside it. */
  const variableFor = (key: string) => [...fromEnv].find(([set]) => set === key || set.startsWith(`${key}.`))
  return error.issues.flatMap((issue) => {
    const path = issuePath(issue.path)
    // A variable that sets a key this gateway does not have (e.g. a newer deployment's): name the variable.
    if (issue.code === 'unrecognized_keys') {
      const keyPath = (key: string) => (path === '' ? key : `${path}.${key}`)
      const inFile = issue.keys.filter((key) => variableFor(keyPath(key)) === undefined)
      return [
        ...issue.keys.flatMap((key) => {
          const found = variableFor(keyPath(key))
          return found === undefined ? [] : [`${found[1]} (environment): ${found[0]}: not a setting of this gateway`]
        }),
        ...(inFile.length === 0 ? [] : [`${source}: ${path || '(root)'}: Unrecognized key${inFile.length > 1 ? 's' : ''}: ${inFile.map((k) => JSON.stringify(k)).join(', ')}`]),
      ]
    }
    const variable = fromEnv.get(path)
    return [`${variable === undefined ? source : `${variable} (environment)`}: ${path || '(root)'}: ${issue.message}`]
  })
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[keys.at(-1) ?? path] = value
}

/**
 * Reads the JSON config file, applies AIRLOCK_* environment overrides, validates it and resolves
 * relative policy, audit and checkpoint key paths against the file's folder. Throws ConfigError CONFIG_INVALID with
 * one line per problem naming the key.
 */
export async function loadGatewayConfig(file: string, env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<GatewayConfig> {
  const path = isAbsolute(file) ? file : resolve(cwd, file)
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    const reason = error instanceof SyntaxError ? `not valid JSON (${error.message})` : 'cannot be read'
    throw new ConfigError('CONFIG_INVALID', `${file}: ${reason}`, { cause: error })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('CONFIG_INVALID', `${file}: (root): expected a JSON object`)
  }
  const merged: Record<string, unknown> = structuredClone(raw as Record<string, unknown>)
  const fromEnv = new Map<string, string>()
  for (const [variable, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[variable]
    if (value === undefined || value === '') continue
    fromEnv.set(key, variable)
    if (key.endsWith('.port')) setPath(merged, key, /^\d+$/.test(value) ? Number(value) : value)
    else if (key === 'policy' || key === 'allowedOrigins') setPath(merged, key, value.split(',').map((s) => s.trim()).filter(Boolean))
    else setPath(merged, key, value)
  }
  const parsed = gatewayConfigSchema.safeParse(merged)
  if (!parsed.success) {
    throw new ConfigError('CONFIG_INVALID', formatConfigIssues(file, parsed.error, fromEnv).join('\n'))
  }
  const base = dirname(path)
  const within = (p: string) => (isAbsolute(p) ? p : resolve(base, p))
  const { audit } = parsed.data
  const checkpoint = audit.checkpoint === undefined ? {} : { checkpoint: { ...audit.checkpoint, keyFile: within(audit.checkpoint.keyFile) } }
  return {
    ...parsed.data,
    policy: parsed.data.policy.map(within),
    audit: audit.sink === 'file' ? { ...audit, path: within(audit.path), ...checkpoint } : { ...audit, ...checkpoint },
  }
}
