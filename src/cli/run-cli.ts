import { STSClient } from '@aws-sdk/client-sts'
import { gatewayCredentials, STS_REQUEST_HANDLER } from '../aws/gateway-credentials.js'
import { createRoleCredentials } from '../aws/role-credentials.js'
import { systemClock } from '../clock.js'
import { registeredTools } from '../../tools/index.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { devOnlyCommand } from './dev-only-command.js'
import { createServeCommand } from './serve-command.js'

const USAGE = `usage: airlock <command>

  serve --config <file>        run the gateway
  sandbox                      run the local sandbox (dev IdP, AWS emulators, gateway)
  token <alice|bob|carol|mallory>
                               print a fresh sandbox access token
  policy check <paths…>        validate policy files
  policy explain --groups a,b  show what an identity may do, and which grant gives it
  policy schema                print the policy JSON Schema
  audit verify [--strict] [--require-seal] [--public-key <pem>] <file>... | --postgres <url> | --config <file>
                               check the audit hash chain and its signed checkpoints
  audit tail <file> | --postgres <url> | --config <file> [-n N]
                               print the latest audit records
  approvals list|approve|deny  review approval requests on a running gateway (admin API, your own token)
  iam-policy                   generate the least-privilege IAM policy, IRSA trust and RBAC
  verify                       check an agent environment, a live gateway or an IAM role
  sandbox trail                print the sandbox's AWS call trail
`

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

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE)
    return name === undefined ? 2 : 0
  }
  const load = commands[name]
  if (load === undefined) {
    io.stderr(`airlock: unknown command ${JSON.stringify(name)}\n${USAGE}`)
    return 2
  }
  return (await load())(rest, io)
}
