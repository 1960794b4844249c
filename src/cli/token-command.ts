import { ConfigError, UpstreamError } from '../errors.js'
import { DEV_IDENTITY_NAMES, isDevIdentity } from '../sandbox/oidc/dev-identities.js'
import { requestClientToken } from '../sandbox/oidc/request-client-token.js'
import { readSandboxState, SANDBOX_STATE_FILE } from '../sandbox/sandbox-state.js'
import type { CliCommand } from './cli-io.js'

export interface TokenCommandDeps {
  readonly fetch?: typeof fetch
  /** Whether the sandbox process is still there; default: signal 0 to the pid. */
  readonly isProcessAlive?: (pid: number) => boolean
}

const NOT_RUNNING = 'no sandbox running here: start it with npm start'
const USAGE = `usage: airlock token <${DEV_IDENTITY_NAMES.join('|')}>`

/**
 * `airlock token <alice|bob|carol|mallory>`: asks the sandbox in the current directory's dev IdP for a
 * fresh access token (client credentials, audience = the gateway) and prints it alone on stdout,
 * for `Authorization: Bearer $(airlock token alice)`. Exit 1 when no sandbox runs here or the IdP
 * refuses; exit 2 on usage errors. `argv` is what follows `airlock token`.
 */
export function createTokenCommand(deps: TokenCommandDeps = {}): CliCommand {
  const isProcessAlive = deps.isProcessAlive ?? processAlive
  return async function tokenCommand(argv, io) {
    const [user, ...extra] = argv
    if (user === undefined || extra.length > 0 || !isDevIdentity(user)) {
      io.stderr(`${USAGE}\n`)
      return 2
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
        ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      })
      io.stdout(`${token}\n`)
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM'
  }
}
