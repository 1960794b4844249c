import { STSClient } from '@aws-sdk/client-sts'
import { gatewayCredentials, STS_REQUEST_HANDLER } from '../aws/gateway-credentials.js'
import { createRoleCredentials } from '../aws/role-credentials.js'
import { systemClock } from '../clock.js'
import { registeredTools } from '../../tools/index.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { sanitize } from './cli-text.js'
import { COMMAND_USAGE, usageFor } from './command-usage.js'
import { devOnlyCommand } from './dev-only-command.js'
import { packageVersion } from './package-info.js'
import { USAGE_ERROR } from './parse-flags.js'
import { createServeCommand } from './serve-command.js'

const USAGE = `usage: airlock <command> [--help]

  serve --config <file>        run the gateway
  sandbox                      run the local sandbox (dev IdP, AWS emulators, gateway)
  sandbox trail                print the sandbox's AWS call trail
  token <alice|bob|carol|mallory>
                               print a fresh sandbox access token [--ttl 60s..1h]
  policy check <paths…>        validate policy files
  policy explain --groups a,b  show what an identity may do, and which grant gives it
  policy schema                print the policy JSON Schema
  audit verify <file>... | --postgres <url> | --config <file>
                               check the audit hash chain and its signed checkpoints
  audit tail <file> | --postgres <url> | --config <file> [-n N]
                               print the latest audit records
  approvals list               the approval requests you may review, on a running gateway (admin API, your own token)
  approvals approve <id>       approve one (--reason)
  approvals deny <id>          deny one (--reason)
  iam-policy                   generate the least-privilege IAM policy, IRSA trust and RBAC
  verify                       check an agent environment, a live gateway or an IAM role

  airlock <command> --help     that command's usage; airlock --version: the version
`

const HELP_FLAGS = new Set(['--help', '-h'])

/** Whether `argv` asks for help before any `--` (after which everything is an argument). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => HELP_FLAGS.has(arg))
}

/**
 * The composition root's command table; each entry is loaded only when run. `sandbox` and `token`
 * are development tools: a production install does not carry their modules or dependencies.
 */
const commands: Record<string, () => Promise<CliCommand>> = {
  serve: async () =>
    createServeCommand({
      aws(io) {
        const credentials = gatewayCredentials(io.env)
        const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION
        const sts = new STSClient({ credentials, requestHandler: STS_REQUEST_HANDLER, ...(region === undefined ? {} : { region }) })
        return { credentials, roleCredentials: createRoleCredentials({ sts, clock: systemClock }) }
      },
    }),
  audit: async () => (await import('./audit-command.js')).auditCommand,
  approvals: async () => (await import('./approvals-command.js')).createApprovalsCommand(),
  sandbox: devOnlyCommand('sandbox', async () => (await import('./sandbox-command.js')).sandboxCommand),
  policy: async () => (await import('./policy-command.js')).createPolicyCommand({ tools: registeredTools }),
  'iam-policy': async () => (await import('./iam-policy-command.js')).iamPolicyCommand,
  verify: async () => (await import('./verify-command.js')).verifyCommand,
  token: devOnlyCommand('token', async () => (await import('./token-command.js')).tokenCommand),
}

/**
 * Runs one CLI invocation; returns the exit code: 0, 1 when the command failed, 2 on usage errors.
 * `--help` anywhere (before `--`) prints the command's or subcommand's usage and exits 0 without
 * loading the command, so asking for help never starts anything.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    io.stderr(USAGE)
    return USAGE_ERROR
  }
  if (HELP_FLAGS.has(name) || name === 'help') {
    io.stdout(USAGE)
    return 0
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`airlock ${packageVersion()}\n`)
    return 0
  }
  const load = commands[name]
  if (load === undefined) {
    io.stderr(`airlock: ${name.startsWith('-') ? 'unknown option' : 'unknown command'} ${JSON.stringify(sanitize(name))}\n${USAGE}`)
    return USAGE_ERROR
  }
  if (asksForHelp(rest)) {
    const key = usageFor(name, rest[0])
    io.stdout(`${key === undefined ? USAGE : COMMAND_USAGE[key]}\n`)
    return 0
  }
  return (await load())(rest, io)
}
