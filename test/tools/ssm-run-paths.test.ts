import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Principal } from '../../src/auth/principal.js'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { systemClock } from '../../src/clock.js'
import { AirlockError } from '../../src/errors.js'
import { ssmConnectionSchema } from '../../src/policy/connection-schema.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import type { PolicyGrant } from '../../src/policy/policy.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { FLEET_LINKS } from '../../src/sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { ToolDeps } from '../../tools/define-tool.js'
import ssmRun from '../../tools/ssm-run.js'
import { createTeardown } from '../support/teardown.js'

const KEY = { accessKeyId: 'AKIAIOSFODNN7PATHTST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYPATHTESTKY' }
const WEB1 = 'i-0a1b2c3d4e5f60001'
const principal: Principal = { issuer: 'https://idp.example.com', subject: 'alice', groups: ['ops'], expiresAt: 4_000_000_000 }
const connection = { ...ssmConnectionSchema.parse({ kind: 'ssm', region: 'eu-west-1', instanceIds: [WEB1] }), id: 'web' }

interface Case {
  readonly name: string
  /** The command, with `<L>` for the instance's log tree (its `var/log`). */
  readonly command: string
  /** Which word the instance refuses, or what the command prints when it runs. */
  readonly expect: { readonly refused: 'outside' | 'unresolved' } | { readonly stdout: RegExp }
}

// Every link the emulator's instances have, read through the tree it sits in, plus plain paths.
const CASES: readonly Case[] = [
  ...FLEET_LINKS.map((link): Case => {
    const relative = link.path.slice('var/log/'.length)
    const isDir = !link.path.endsWith('.log')
    const command = isDir ? `find <L>/${relative} -name {x}` : `cat <L>/${relative}`
    const dangling = link.path.endsWith('dangling.log')
    return {
      name: `the ${isDir ? 'directory' : 'file'} link ${relative}`,
      command: command.replace('{x}', 'app.log'),
      expect: link.inside ? { stdout: isDir ? /\/var\/log\/app\/app\.log\n$/ : /app: listening on :8080/ } : { refused: dangling ? 'unresolved' : 'outside' },
    }
  }),
  { name: 'a file behind a directory link that leaves the tree', command: 'cat <L>/etc/app.conf', expect: { refused: 'outside' } },
  { name: 'a file behind a directory link that stays inside', command: 'cat <L>/current/app.log', expect: { stdout: /app: listening on :8080/ } },
  { name: 'a missing file', command: 'cat <L>/app/missing.log', expect: { refused: 'unresolved' } },
  { name: 'a plain file', command: 'cat <L>/app/app.log', expect: { stdout: /GET \/health 200/ } },
]

describe('ssm_run resolves path arguments on the instance: links out of the allowed tree are refused', () => {
  const teardown = createTeardown()
  let emulator: SsmEmulator
  let deps: ToolDeps
  let logs = ''
  let policyGrant: PolicyGrant

  before(async () => {
    emulator = await startSsmEmulator({ store: createCredentialStore([{ ...KEY, principalArn: 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock' }]), trail: createTrail(systemClock), clock: systemClock, instances: [{ instanceId: WEB1, name: 'web-1' }], deliveryDelayMs: 10 })
    teardown.add(() => emulator.close())
    deps = createToolDeps({ aws: createAwsClients({ credentials: async () => KEY, endpoints: { ssm: emulator.endpoint }, maxAttempts: 1 }), clock: systemClock })
    logs = '/var/log'
    policyGrant = resolveGrant(grantSchema.parse({
      id: 'ops-logs',
      groups: ['ops'],
      connections: ['web'],
      tools: ['ssm_run'],
      ssm: { commands: [['cat', `{path:${logs}/**}`], ['find', `{path:${logs}/**}`, '-name', '{word}']], timeoutSeconds: 5 },
    }))
  })
  after(() => teardown.run())

  const run = (command: string) =>
    ssmRun.handler({
      principal,
      grant: policyGrant,
      connection,
      args: { instance: WEB1, command: command.replaceAll('<L>', logs) },
      deps,
      signal: new AbortController().signal,
      progress: async () => {},
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused' },
    })

  it('has cases for links that leave and links that stay', () => {
    assert.ok(CASES.filter((c) => 'refused' in c.expect).length >= 5, 'at least five refusals')
    assert.ok(CASES.filter((c) => 'stdout' in c.expect).length >= 3, 'and allowed reads beside them')
  })

  for (const c of CASES) {
    it(`${c.name}: ${'refused' in c.expect ? `PATH_NOT_ALLOWED (${c.expect.refused})` : 'runs'}`, async () => {
      const expect = c.expect
      if ('refused' in expect) {
        await assert.rejects(run(c.command), (error: unknown) => {
          assert.ok(error instanceof AirlockError, String(error))
          assert.equal(error.code, 'PATH_NOT_ALLOWED', error.message)
          assert.match(error.message, expect.refused === 'unresolved' ? /does not resolve/ : /resolves outside/)
          assert.doesNotMatch(error.message, /db_password/)
          return true
        })
      } else {
        const result = await run(c.command)
        assert.equal(result.structured?.['status'], 'Success', JSON.stringify(result.structured))
        assert.match(String(result.structured?.['stdout']), expect.stdout)
      }
      const script = emulator.executions().at(-1)?.script ?? ''
      assert.match(script, /realpath -e -- /, 'the instance got the checking script')
    })
  }
})
