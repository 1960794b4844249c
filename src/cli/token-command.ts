import { decodeJwt } from 'jose'
import { ConfigError, UpstreamError } from '../errors.js'
import { CLIENT_TOKEN_TTL_SECONDS } from '../sandbox/oidc/client-token-ttl.js'
import { isDevIdentity } from '../sandbox/oidc/dev-identities.js'
import { requestClientToken } from '../sandbox/oidc/request-client-token.js'
import { readSandboxState, SANDBOX_STATE_FILE } from '../sandbox/sandbox-state.js'
import type { CliCommand } from './cli-io.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'

export interface TokenCommandDeps {
  readonly fetch?: typeof fetch
  /** Whether the sandbox process is still there; default: signal 0 to the pid. */
  readonly isProcessAlive?: (pid: number) => boolean
}

const NOT_RUNNING = 'no sandbox running here: start it with npm start'

/** `90s`, `30m`, `1h` or plain seconds; undefined when it is none of these. */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d{1,6})(s|m|h)?$/.exec(text)
  if (match === null) return undefined
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] === 'm' || match[2] === 'h' ? match[2] : 's']
}

/**
 * `airlock token <alice|bob|carol|mallory> [--ttl <duration>]`: asks the sandbox in the current
 * directory's dev IdP for a fresh access token (client credentials, audience = the gateway) and
 * prints it alone on stdout, for `Authorization: Bearer $(airlock token alice)`; its expiry goes to
 * stderr. `--ttl` from 60 s to 1 h (CLIENT_TOKEN_TTL_SECONDS): such a token cannot be revoked or
 * refreshed, so clients that sign in with OAuth should. Exit 1 when no sandbox runs here or the
 * IdP refuses; exit 2 on usage errors. `argv` is what follows `airlock token`.
 */
export function createTokenCommand(deps: TokenCommandDeps = {}): CliCommand {
  const isProcessAlive = deps.isProcessAlive ?? processAlive
  return async function tokenCommand(argv, io) {
    const parsed = parseFlags(argv, { ttl: { type: 'string' } }, 'token', io)
    if (parsed === undefined) return USAGE_ERROR
    const [user, ...extra] = parsed.positionals
    if (user === undefined) return usageError(io, 'token', 'whose token: alice, bob or mallory?')
    if (!isDevIdentity(user)) return usageError(io, 'token', `no identity ${JSON.stringify(user)} in the sandbox: alice, bob or mallory`)
    if (extra.length > 0) return usageError(io, 'token', `unexpected argument ${JSON.stringify(extra[0])}`)
    let ttlSeconds: number | undefined
    if (parsed.values.ttl !== undefined) {
      ttlSeconds = parseTtl(parsed.values.ttl)
      if (ttlSeconds === undefined) return usageError(io, 'token', '--ttl: expected a duration such as 90s, 30m or 1h')
      if (ttlSeconds > CLIENT_TOKEN_TTL_SECONDS.max) {
        return usageError(io, 'token', '--ttl: at most 1h; a header token cannot be revoked or refreshed, so for longer sessions let the client sign in with OAuth')
      }
      if (ttlSeconds < CLIENT_TOKEN_TTL_SECONDS.min) return usageError(io, 'token', '--ttl: at least 60s')
    }
    let state
    try {
      state = await readSandboxState(io.cwd)
    } catch (error) {
      io.stderr(`${error instanceof ConfigError ? error.message : `${SANDBOX_STATE_FILE}: cannot read`}\n`)
      return 1
    }
    if (state === undefined || !isProcessAlive(state.pid)) {
      io.stderr(`${NOT_RUNNING}\n`)
      return 1
    }
    const client = state.clients.find((c) => c.id === user)
    if (client === undefined) {
      io.stderr(`the running sandbox has no client for ${user}\n`)
      return 1
    }
    try {
      const token = await requestClientToken({
        tokenEndpoint: state.tokenEndpoint,
        clientId: client.id,
        clientSecret: client.secret,
        resource: state.gatewayUrl,
        ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      })
      io.stdout(`${token}\n`)
      io.stderr(`airlock: ${user}'s token expires at ${expiryOf(token)}\n`)
      return 0
    } catch (error) {
      if (error instanceof UpstreamError && error.code === 'OIDC_UNAVAILABLE') {
        io.stderr(`${NOT_RUNNING}\n`)
      } else if (error instanceof UpstreamError) {
        io.stderr(`the sandbox identity provider refused the token request (${error.publicDetail ?? error.code})\n`)
      } else {
        throw error
      }
      return 1
    }
  }
}

export const tokenCommand: CliCommand = createTokenCommand()

/** The token's `exp` as an ISO time; the dev IdP always sets one. */
function expiryOf(token: string): string {
  try {
    const { exp } = decodeJwt(token)
    return exp === undefined ? 'an unknown time' : new Date(exp * 1000).toISOString().replace(/\.000Z$/, 'Z')
  } catch {
    return 'an unknown time'
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM'
  }
}
