import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { JWK } from 'jose'
import { z } from 'zod'
import { generateIamPlan } from '../access-plan/generate-iam-plan.js'
import { systemClock, type Clock } from '../clock.js'
import { compareRolePolicy } from '../posture/compare-role-policy.js'
import { probeGateway } from '../posture/probe-gateway.js'
import { scanAgentEnv } from '../posture/scan-agent-env.js'
import { fail, type PostureCheck } from '../posture/posture-check.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'
import { IAM_PLAN_FLAGS, loadPolicyForCli, parseIamPlanFlags } from './iam-policy-command.js'

export interface VerifyCommandDeps {
  readonly clock: Clock
  readonly fetch?: typeof fetch
  /** Per-request timeout of the gateway probes; default theirs (10 s). */
  readonly timeoutMs?: number
}

/**
 * `airlock verify`: checks that an agent holds no AWS keys (`--agent-env`), that a running gateway
 * refuses what it must and serves MCP with a valid token (`--gateway`), and that an attached IAM
 * policy is no wider than the generated least-privilege one (`--role-policy`). One line per check,
 * or `--json`. Exit 0 when nothing FAILs, 1 otherwise, 2 on usage errors.
 */
export function createVerifyCommand(deps: VerifyCommandDeps): CliCommand {
  return async function verifyCommand(argv, io) {
    const parsed = parseFlags(
      argv,
      {
        ...IAM_PLAN_FLAGS,
        json: { type: 'boolean' },
        'agent-env': { type: 'boolean' },
        gateway: { type: 'string' },
        token: { type: 'string' },
        'expired-token': { type: 'string' },
        'wrong-audience-token': { type: 'string' },
        'signing-key': { type: 'string' },
        'role-policy': { type: 'string' },
      },
      'verify',
      io,
    )
    if (parsed === undefined) return USAGE_ERROR
    const v = parsed.values
    const usage = (message: string): number => usageError(io, 'verify', message)
    if (v['agent-env'] !== true && v.gateway === undefined && v['role-policy'] === undefined) return usage('nothing to verify: give --agent-env, --gateway or --role-policy')
    if (parsed.positionals.length > 0 && v['agent-env'] !== true) return usage('extra paths are only read with --agent-env')
    const tokenFlags = [v.token, v['expired-token'], v['wrong-audience-token'], v['signing-key']].some((t) => t !== undefined)
    if (tokenFlags && v.gateway === undefined) return usage('token flags need --gateway')
    if (v['signing-key'] !== undefined && v.token === undefined) return usage('--signing-key needs --token (a valid token whose claims the probes copy)')
    if (v.gateway !== undefined && !/^https?:\/\//.test(v.gateway)) return usage('--gateway: expected the MCP URL, e.g. https://airlock.example.com/mcp')

    const checks: PostureCheck[] = []
    if (v['agent-env'] === true) checks.push(...(await scanAgentEnv({ env: io.env, cwd: io.cwd, paths: parsed.positionals })))
    if (v.gateway !== undefined) {
      const tokens: Record<string, string> = {}
      for (const flag of ['token', 'expired-token', 'wrong-audience-token'] as const) {
        const value = v[flag]
        if (value === undefined) continue
        const token = await readToken(value, io)
        if (token === undefined) return usage(`--${flag}: cannot read the token file`)
        tokens[flag] = token
      }
      let signingKey: JWK | undefined
      if (v['signing-key'] !== undefined) {
        signingKey = await readSigningKey(v['signing-key'], io)
        if (signingKey === undefined) return usage('--signing-key: expected a private JWK (RSA, EC or OKP, with "kid" and "d"), or @file holding one')
      }
      checks.push(
        ...(await probeGateway({
          mcpUrl: v.gateway,
          clock: deps.clock,
          ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
          ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
          ...(tokens['token'] === undefined ? {} : { token: tokens['token'] }),
          ...(tokens['expired-token'] === undefined ? {} : { expiredToken: tokens['expired-token'] }),
          ...(tokens['wrong-audience-token'] === undefined ? {} : { wrongAudienceToken: tokens['wrong-audience-token'] }),
          ...(signingKey === undefined ? {} : { signingKey }),
        })),
      )
    }
    if (v['role-policy'] !== undefined) {
      const args = parseIamPlanFlags(v, io)
      if (typeof args === 'string') return usage(args)
      const policy = await loadPolicyForCli(args.paths, io)
      if (policy === undefined) return 1
      const attached = await readJson(resolve(io.cwd, v['role-policy']))
      if (attached === undefined) checks.push(fail('role-policy.invalid', 'cannot read the attached policy as JSON', v['role-policy']))
      else checks.push(...compareRolePolicy(attached.value, generateIamPlan(policy, args.options).gatewayRole.policy, v['role-policy']))
    }
    report(checks, v.json === true, io)
    return checks.some((c) => c.status === 'FAIL') ? 1 : 0
  }
}

export const verifyCommand: CliCommand = createVerifyCommand({ clock: systemClock })

function report(checks: readonly PostureCheck[], json: boolean, io: CliIo): void {
  const failed = checks.filter((c) => c.status === 'FAIL').length
  const warned = checks.filter((c) => c.status === 'WARN').length
  if (json) {
    io.stdout(`${JSON.stringify({ ok: failed === 0, checks }, null, 2)}\n`)
    return
  }
  const width = Math.max(0, ...checks.map((c) => c.id.length))
  for (const c of checks) io.stdout(`${c.status.padEnd(4)}  ${c.id.padEnd(width)}  ${c.summary}${c.where === undefined ? '' : `  [${c.where}]`}\n`)
  io.stdout(`verify: ${checks.length - failed - warned} passed, ${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}\n`)
}

async function readToken(value: string, io: CliIo): Promise<string | undefined> {
  if (!value.startsWith('@')) return value
  try {
    return (await readFile(resolve(io.cwd, value.slice(1)), 'utf8')).trim()
  } catch {
    return undefined
  }
}

// Loose: a JWK carries more members than these; the key must be private and name its kid.
const privateJwkSchema = z.looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string().min(1), d: z.string().min(1), alg: z.string().optional() })

async function readSigningKey(value: string, io: CliIo): Promise<JWK | undefined> {
  const text = await readToken(value, io)
  if (text === undefined) return undefined
  try {
    const parsed = privateJwkSchema.safeParse(JSON.parse(text))
    if (!parsed.success) return undefined
    const { alg, ...key } = parsed.data
    return alg === undefined ? key : { ...key, alg }
  } catch {
    return undefined
  }
}

async function readJson(file: string): Promise<{ value: unknown } | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'))
    return { value }
  } catch {
    return undefined
  }
}
