import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import type { CliIo } from '../../src/cli/cli-io.js'
import { createPolicyCommand } from '../../src/cli/policy-command.js'
import { createManualClock } from '../../src/clock.js'
import { readPolicyFiles } from '../../src/cli/policy-files.js'
import { buildPolicy } from '../../src/policy/build-policy.js'
import type { ConnectionKind } from '../../src/policy/connection-schema.js'
import { policyOf } from '../policy/policy-fixture.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const TOOLS: { name: string; connectionKinds: ConnectionKind[] }[] = [
  { name: 'whoami', connectionKinds: [] },
  { name: 'list_connections', connectionKinds: [] },
  { name: 'sql_query', connectionKinds: ['rds-data'] },
  { name: 'ssm_run', connectionKinds: ['ssm'] },
  { name: 'kubectl', connectionKinds: ['eks'] },
]
const command = createPolicyCommand({ tools: TOOLS, clock: createManualClock(Date.parse('2026-06-01T12:00:00Z')) })

async function run(argv: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  let stdout = ''
  let stderr = ''
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: options.cwd ?? repo, env: options.env ?? {} }
  const code = await command(argv, io)
  return { code, stdout, stderr }
}

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-policy-command-'))
  const rds = {
    kind: 'rds-data', region: 'us-east-1', engine: 'postgres', database: 'd',
    resourceArn: 'arn:aws:rds:us-east-1:111122223333:cluster:c', secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s',
    readOnlySecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:r',
  }
  await writeFile(join(dir, 'no-reader.json'), JSON.stringify({
    version: 1,
    connections: { db: { ...rds, readOnlySecretArn: undefined } },
    grants: [{ id: 'reader', groups: ['g'], connections: ['db'], tools: ['sql_query'] }],
  }))
  await writeFile(join(dir, 'tools.json'), JSON.stringify({
    version: 1,
    connections: { db: rds },
    grants: [
      { id: 'typo', groups: ['g'], connections: ['db'], tools: ['sql_querry'] },
      { id: 'no-fit', groups: ['g'], connections: ['db'], tools: ['whoami', 'kubectl'] },
    ],
  }))
  await writeFile(join(dir, 'catalogs.json'), JSON.stringify({
    version: 1,
    connections: { db: rds },
    grants: [{ id: 'dba-catalogs', groups: ['dba'], connections: ['db'], tools: ['sql_query'], sql: { allowSystemCatalogs: true } }],
  }))
  await writeFile(join(dir, 'bad.json'), '{"version": 1, "grants": [{"id": "x", "groups": ["g"], "tools": ["whoami"], "sql": {"mode": "rw"}}]}')
  await writeFile(join(dir, 'expired.json'), JSON.stringify({ version: 1, grants: [{ id: 'old', groups: ['g'], tools: ['whoami'], notAfter: '2026-01-01T00:00:00Z' }] }))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('airlock policy check', () => {
  it('accepts the demo policy and every example', async () => {
    const result = await run(['check', 'policies/demo.json', 'policies/examples'])
    assert.deepEqual({ ...result, stdout: result.stdout.replace(/[0-9a-f]{64}/, '<sha256>') }, {
      code: 0,
      stdout:
        'OK: 4 files, 7 connections, 14 grants\n' +
        'approval: grant sre-cluster-restart approved by sre-leads (buys one call; pending for 10m; reason required)\n' +
        'approval: grant break-glass-ledger-write approved by ledger-leads, security (buys one call; pending for 15m; reason required)\n' +
        'fingerprint: <sha256>\n',
      stderr: '',
    })
    const files = await readPolicyFiles(['policies/demo.json', 'policies/examples'], { cwd: repo })
    const built = buildPolicy(files.documents)
    assert.ok(built.ok, 'expected: built.ok')
    assert.equal(result.stdout.split('fingerprint: ')[1], `${built.policy.fingerprint}\n`, 'the fingerprint the gateway records')
  })

  it('prints the same fingerprint for a reformatted policy and another one for an edited policy', async () => {
    const policy = { version: 1, grants: [{ id: 'me', groups: ['ops'], tools: ['whoami'] }] }
    await writeFile(join(dir, 'compact.json'), JSON.stringify(policy))
    await writeFile(join(dir, 'pretty.json'), `${JSON.stringify({ grants: policy.grants, version: 1 }, null, 2)}\n`)
    await writeFile(join(dir, 'edited.json'), JSON.stringify({ ...policy, grants: [{ ...policy.grants[0], groups: ['ops', 'dba'] }] }))
    const fingerprint = async (file: string) => {
      const result = await run(['check', file], { cwd: dir })
      assert.equal(result.code, 0, result.stdout)
      return /^fingerprint: ([0-9a-f]{64})$/m.exec(result.stdout)?.[1]
    }
    const compact = await fingerprint('compact.json')
    assert.ok(compact !== undefined, 'expected: compact !== undefined')
    assert.equal(await fingerprint('pretty.json'), compact)
    assert.notEqual(await fingerprint('edited.json'), compact)
  })

  it('prints one line per problem and exits 1', async () => {
    const result = await run(['check', 'bad.json'], { cwd: dir })
    assert.equal(result.code, 1)
    assert.equal(result.stdout, 'bad.json: grants[0].sql.mode: expected "read-only" | "read-write"\n')
  })

  it('flags unknown tools and tools none of the grant’s connections fit', async () => {
    const result = await run(['check', 'tools.json'], { cwd: dir })
    assert.equal(result.code, 1)
    assert.equal(
      result.stdout,
      'tools.json: grants[0].tools[0]: unknown tool "sql_querry"; known tools: whoami, list_connections, sql_query, ssm_run, kubectl\n' +
        'tools.json: grants[1].tools[1]: tool kubectl needs a connection of kind eks, and this grant lists none\n',
    )
  })

  it('reports missing files and passes warnings through with exit 0', async () => {
    assert.deepEqual(await run(['check', 'missing.json'], { cwd: dir }), { code: 1, stdout: 'missing.json: no such file or directory\n', stderr: '' })
    assert.deepEqual(await run(['check', 'expired.json'], { cwd: dir }), {
      code: 0,
      stdout:
        'expired.json: grants[0].notAfter: warning: grant expired at 2026-01-01T00:00:00Z; it allows nothing\nOK: 1 file, 0 connections, 1 grant, 1 warning\n' +
        `fingerprint: ${policyOf({ version: 1, grants: [{ id: 'old', groups: ['g'], tools: ['whoami'], notAfter: '2026-01-01T00:00:00Z' }] }).fingerprint}\n`,
      stderr: '',
    })
  })

  it('warns when a read-only grant reaches a Data API connection without a read-only secret', async () => {
    const result = await run(['check', 'no-reader.json'], { cwd: dir })
    assert.equal(result.code, 0, result.stdout)
    assert.match(result.stdout, /^no-reader\.json: grants\[0\]\.connections\[0\]: warning: grant is read-only on "db", which has no "readOnlySecretArn"/)
    assert.match(result.stdout, /OK: 1 file, 1 connection, 1 grant, 1 warning\n/)
  })

  it('needs at least one path', async () => {
    assert.deepEqual(await run(['check']), { code: 2, stdout: '', stderr: 'airlock policy check: give the policy files or directories to check\nusage: airlock policy check <paths…>\n' })
    assert.deepEqual(await run(['check', '--strict', 'policies']), { code: 2, stdout: '', stderr: 'airlock policy check: unknown option --strict\nusage: airlock policy check <paths…>\n' })
    assert.equal((await run(['check', '--strict', 'x.json'])).code, 2)
  })
})

describe('airlock policy explain', () => {
  it('shows an SRE their tools, connections, limits and deciding grants', async () => {
    const result = await run(['explain', '--groups', 'sre', '--subject', 'carol'])
    assert.equal(result.code, 0)
    assert.equal(
      result.stdout,
      [
        'identity: groups sre; subject carol',
        'whoami: grant self-service (ttl 15m)',
        'list_connections: grant self-service (ttl 15m)',
        'ssm_run on web-fleet (ssm): grant sre-web-commands (ttl 15m; commands uptime | df -h | systemctl status {word} | journalctl -u {word} -n {int} | tail -n {int} {path:/var/log/**} | cat {path:/var/log/**}; timeout 30s, output up to 24000 bytes)',
        'kubectl on demo-cluster (eks): grant sre-cluster-read (ttl 30m; verbs get,list,describe,logs,events; resources pods,deployments,replicasets,services,configmaps,events,namespaces; namespaces shop,monitoring)',
        'needs approval: grant sre-cluster-restart (kubectl on demo-cluster; approvers sre-leads)',
        '',
      ].join('\n'),
    )
  })

  it('shows a DBA the masked read-only database', async () => {
    const result = await run(['explain', '--groups', 'dba'])
    assert.ok(result.stdout.includes('sql_query on orders-db (rds-data): grant dba-orders-read (ttl 15m; read-only, max 200 rows, timeout 30s; mask *.email=redact, customers.phone=last4)\n'), 'expected: result.stdout.includes(\'sql_query on orders-db (rds-data): grant dba-orders-read (ttl 15m; read-o...')
    assert.ok(!result.stdout.includes('analysts-orders-write'), 'expected: !result.stdout.includes(\'analysts-orders-write\')')
  })

  it('says when a grant may read system catalogs, and only then', async () => {
    const opted = await run(['explain', '--groups', 'dba', '--policy', join(dir, 'catalogs.json')])
    assert.ok(opted.stdout.includes('sql_query on db (rds-data): grant dba-catalogs (ttl 15m; read-only, max 1000 rows, timeout 30s; system catalogs readable)\n'), opted.stdout)
    const plain = await run(['explain', '--groups', 'dba'])
    assert.ok(!plain.stdout.includes('system catalogs'), plain.stdout)
  })

  it('gives mallory (no groups) nothing', async () => {
    assert.deepEqual(await run(['explain', '--groups', '', '--subject', 'mallory']), {
      code: 0,
      stdout: 'identity: groups (none); subject mallory\nno access: no grant matches this identity\n',
      stderr: '',
    })
  })

  it('prints JSON with --json, from the policy named by --policy', async () => {
    const result = await run(['explain', '--groups', 'analysts', '--policy', 'policies/demo.json', '--json'])
    assert.equal(result.code, 0)
    const parsed: unknown = JSON.parse(result.stdout)
    assert.deepEqual(parsed, {
      identity: { groups: ['analysts'] },
      tools: [
        { tool: 'whoami', grantId: 'self-service', limits: { ttlSeconds: 900 }, connections: [] },
        { tool: 'list_connections', grantId: 'self-service', limits: { ttlSeconds: 900 }, connections: [] },
        {
          tool: 'sql_query',
          grantId: 'analysts-orders-write',
          limits: { ttlSeconds: 600 },
          connections: [
            {
              connection: 'orders-db',
              kind: 'rds-data',
              grantId: 'analysts-orders-write',
              limits: {
                ttlSeconds: 600,
                sql: { mode: 'read-write', maxRows: 1000, timeoutSeconds: 30, maskColumns: {}, detectors: { awsKeys: true, emails: true, cardNumbers: true }, allowSystemCatalogs: false },
              },
            },
          ],
        },
      ],
      approvalRequired: [],
      approves: [],
      expired: [],
    })
  })

  it('uses AIRLOCK_POLICY when --policy is absent, and fails on an invalid policy', async () => {
    const result = await run(['explain', '--groups', 'g'], { cwd: dir, env: { AIRLOCK_POLICY: 'bad.json' } })
    assert.deepEqual(result, { code: 1, stdout: '', stderr: 'bad.json: grants[0].sql.mode: expected "read-only" | "read-write"\n' })
  })

  it('refuses bad usage with one line and exit 2', async () => {
    const line = 'usage: airlock policy explain --groups a,b [--subject s] [--policy <paths>] [--json]\n'
    const refused = (problem: string) => ({ code: 2, stdout: '', stderr: `airlock policy explain: ${problem}\n${line}` })
    assert.deepEqual(await run(['explain']), refused('whose access: give --groups or --subject'))
    assert.deepEqual(await run(['explain', '--groups']), refused('--groups needs a value'))
    assert.deepEqual(await run(['explain', '--groups', 'a', '--bogus']), refused('unknown option --bogus'))
    assert.deepEqual(await run(['explain', '--groups', 'a', 'extra']), refused('unexpected argument extra'))
  })
})

describe('airlock policy schema', () => {
  it('prints exactly the committed schema file', async () => {
    const result = await run(['schema'])
    assert.equal(result.code, 0)
    assert.equal(result.stdout, await readFile(join(repo, 'policies', 'policy.schema.json'), 'utf8'))
  })

  it('takes no arguments; unknown subcommands are usage errors', async () => {
    assert.deepEqual(await run(['schema', 'x']), { code: 2, stdout: '', stderr: 'airlock policy schema: unexpected argument x\nusage: airlock policy schema\n' })
    const usage = 'usage: airlock policy check <paths…> | policy explain --groups a,b [--subject s] [--policy <paths>] [--json] | policy schema\n'
    assert.deepEqual(await run([]), { code: 2, stdout: '', stderr: `airlock policy: which one: check, explain or schema?\n${usage}` })
    assert.deepEqual(await run(['frob']), { code: 2, stdout: '', stderr: `airlock policy: unknown subcommand "frob"\n${usage}` })
  })
})
