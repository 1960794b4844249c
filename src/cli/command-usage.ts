/**
 * Every command's and subcommand's usage, in one table: `airlock <command> [<sub>] --help` prints
 * the entry without loading the command, so asking for help never starts anything.
 */
export const COMMAND_USAGE = {
  serve: `usage: airlock serve --config <file>   (or set AIRLOCK_CONFIG)

Runs the gateway until SIGINT/SIGTERM.`,
  sandbox: `usage: airlock sandbox [--port <0-65535>] [--replicas <1-8> [--redis <url>] [--postgres <url>]]
       airlock sandbox trail

Runs the local sandbox (dev IdP, AWS emulators, gateway) from the current directory; state,
audit and trail go to .airlock/. One sandbox per directory and port. Default port: 8080
(or AIRLOCK_SANDBOX_PORT).`,
  'sandbox trail': `usage: airlock sandbox trail

Prints the AWS calls the running sandbox's emulators saw (.airlock/trail.jsonl).`,
  token: `usage: airlock token <alice|bob|carol|mallory> [--ttl <duration>]

Prints a fresh access token of the sandbox running in the current directory, alone on stdout;
its expiry goes to stderr. --ttl: 60s to 1h (e.g. 90s, 30m, 1h; default 10m).`,
  policy: `usage: airlock policy check <paths…> | policy explain --groups a,b [--subject s] [--policy <paths>] [--json] | policy schema`,
  'policy check': `usage: airlock policy check <paths…>

Validates policy files or directories and prints the policy's fingerprint.`,
  'policy explain': `usage: airlock policy explain --groups a,b [--subject s] [--policy <paths>] [--json]

Shows what an identity may do and which grant gives it (policy: --policy, else AIRLOCK_POLICY,
else policies/demo.json).`,
  'policy schema': `usage: airlock policy schema

Prints the policy JSON Schema.`,
  audit: `usage: airlock audit verify [options] <file>... | --postgres <url> | --config <file>
       airlock audit tail <file> | --postgres <url> | --config <file> [-n N]`,
  'audit verify': `usage: airlock audit verify [--strict] [--require-seal] [--public-key <pem>]...
         (<file>... [--checkpoints <file>] | --postgres <url> [--schema s] [--table t] | --config <file>)

Checks the audit hash chain (files oldest first) and its signed checkpoints.`,
  'audit tail': `usage: airlock audit tail (<file> | --postgres <url> [--schema s] [--table t] | --config <file>) [-n N]  (N: 1..100000)

Prints the latest audit records, one line each.`,
  'iam-policy': `usage: airlock iam-policy [--policy <paths,…>] [--format json|terraform] [--account <id>]
                          [--oidc-provider-arn <arn>] [--service-account <ns:sa>] [--gateway-role-arn <arn>]

Generates the least-privilege IAM policy, the IRSA trust policy and EKS access with RBAC.`,
  approvals: `usage: airlock approvals list [--admin <url>]
       airlock approvals approve <id> --reason <text> [--admin <url>]
       airlock approvals deny <id> --reason <text> [--admin <url>]

Reviews approval requests through a running gateway's admin listener (--admin, else
AIRLOCK_ADMIN_URL), signed in as yourself: your access token from the gateway's identity provider
in AIRLOCK_TOKEN.`,
  'approvals list': `usage: airlock approvals list [--admin <url>]

Lists the pending requests you may review: who asked, what, where, why and the time left.`,
  'approvals approve': `usage: airlock approvals approve <id> --reason <text> [--admin <url>]

Approves a request (never your own; you must be in one of its approver groups).`,
  'approvals deny': `usage: airlock approvals deny <id> --reason <text> [--admin <url>]

Denies a request; a denial is final.`,
  verify: `usage: airlock verify [--json]
         [--agent-env [paths…]]
         [--gateway <mcp-url> [--token <t|@file>] [--expired-token <t|@file>] [--wrong-audience-token <t|@file>]
                              [--signing-key <private-jwk|@file> (with --token)]]
         [--role-policy <iam-policy.json> [--policy <paths,…>] [--account <id>]]

Checks an agent environment, a live gateway or an attached IAM role policy.`,
} as const

export type UsageKey = keyof typeof COMMAND_USAGE

/** The first line of a usage text: what a usage error repeats. */
export function usageLine(key: UsageKey): string {
  return COMMAND_USAGE[key].split('\n\n')[0] ?? ''
}

/** The usage entry for `argv` (the command and, when it has one, its subcommand). */
export function usageFor(name: string, sub: string | undefined): UsageKey | undefined {
  const nested = `${name} ${sub ?? ''}`
  if (isUsageKey(nested)) return nested
  return isUsageKey(name) ? name : undefined
}

function isUsageKey(key: string): key is UsageKey {
  return Object.hasOwn(COMMAND_USAGE, key)
}
