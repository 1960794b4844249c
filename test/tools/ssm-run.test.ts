import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { z } from 'zod'
import type { Principal } from '../../src/auth/principal.js'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { createManualClock, systemClock } from '../../src/clock.js'
import { AirlockError } from '../../src/errors.js'
import { ssmConnectionSchema, type NamedConnection, type SsmConnection } from '../../src/policy/connection-schema.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import type { PolicyGrant } from '../../src/policy/policy.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail, type Trail } from '../../src/sandbox/trail.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { ProgressUpdate, ToolContext, ToolDeps } from '../../tools/define-tool.js'
import ssmRun from '../../tools/ssm-run.js'
import { ESCAPE_FIXTURES, TEST_TEMPLATES } from '../guard/shell/escape-fixtures.js'

const KEY = { accessKeyId: 'AKIAIOSFODNN7TOOLTST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYTOOLTESTKEY' }
const GATEWAY = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
const WEB1 = 'i-0a1b2c3d4e5f60001'
const WEB2 = 'i-0a1b2c3d4e5f60002'
const DB = 'i-0a1b2c3d4e5f60003'
const GONE = 'i-0a1b2c3d4e5f60004'

const principal: Principal = { issuer: 'https://idp.example.com', subject: 'alice', groups: ['ops'], expiresAt: 4_000_000_000 }

type Args = z.infer<z.ZodObject<typeof ssmRun.input>>

function grant(ssm: unknown): PolicyGrant {
  return resolveGrant(grantSchema.parse({ id: 'ops-shell', groups: ['ops'], connections: ['web'], tools: ['ssm_run'], ...(ssm === undefined ? {} : { ssm }) }))
}

function connection(input: Record<string, unknown>, id = 'web'): NamedConnection<SsmConnection> {
  return { ...ssmConnectionSchema.parse({ kind: 'ssm', region: 'eu-west-1', ...input }), id }
}

describe('ssm_run', () => {
  let trail: Trail
  let emulator: SsmEmulator
  let deps: ToolDeps
  const defaultGrant = grant({ commands: [...TEST_TEMPLATES, ['sleep', '{int:1-60}'], ['head', '-c', '{int:1-100000}', '/dev/zero']], timeoutSeconds: 2, maxOutputBytes: 1000 })
  const listed = connection({ instanceIds: [WEB1, WEB2, GONE] })

  function ctx(args: Args, options: { grant?: PolicyGrant; connection?: NamedConnection<SsmConnection>; signal?: AbortSignal; progress?: ProgressUpdate[] } = {}): ToolContext<Args, 'ssm'> {
    return {
      principal,
      grant: options.grant ?? defaultGrant,
      connection: options.connection ?? listed,
      args,
      deps,
      signal: options.signal ?? new AbortController().signal,
      progress: async (update) => {
        options.progress?.push(update)
      },
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused-by-this-tool' },
    }
  }

  async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof AirlockError, String(e))
      assert.equal(e.code, code, e.message)
      return true
    })
  }

  before(async () => {
    trail = createTrail(systemClock)
    const store = createCredentialStore([{ ...KEY, principalArn: GATEWAY }])
    emulator = await startSsmEmulator({
      store,
      trail,
      clock: systemClock,
      instances: [
        { instanceId: WEB1, name: 'web-1', tags: { role: 'web' } },
        { instanceId: WEB2, name: 'web-2', tags: { role: 'web' } },
        { instanceId: DB, name: 'db-1', tags: { role: 'db' } },
        { instanceId: GONE, name: 'gone-1', tags: { role: 'web' }, online: false },
        { instanceId: 'i-0a1b2c3d4e5f60005', name: 'twin', tags: { role: 'web' } },
        { instanceId: 'i-0a1b2c3d4e5f60006', name: 'twin', tags: { role: 'web' } },
      ],
      deliveryDelayMs: 20,
    })
    deps = createToolDeps({ aws: createAwsClients({ credentials: async () => KEY, endpoints: { ssm: emulator.endpoint }, maxAttempts: 1 }), clock: systemClock })
  })
  after(() => emulator.close())

  it('runs an allowed command and returns stdout with exit 0', async () => {
    const result = await ssmRun.handler(ctx({ instance: WEB1, command: "echo 'hello'" }))
    assert.deepEqual({ ...result.structured, durationMs: 0 }, { instance: WEB1, status: 'Success', exitCode: 0, stdout: 'hello\n', stderr: '', truncated: false, durationMs: 0 })
    assert.match(result.text, /^i-0a1b2c3d4e5f60001: Success, exit 0/)
    const exec = emulator.executions().at(-1)
    assert.equal(exec?.script, "'echo' 'hello'")
    assert.equal(exec?.principalArn, GATEWAY)
    const send = trail.entries().find((e) => e.action === 'SendCommand' && e.detail?.['commandId'] === exec?.commandId)
    assert.equal(send?.detail?.['comment'], 'airlock alice')
  })

  it('returns a failing exit code as a normal result', async () => {
    const logs = '/var/log'
    const tailLogs = grant({ commands: [['tail', '-n', '{int:1-100}', `{path:${logs}/**}`]] })
    // The tree's root is a directory: the path is allowed, tail itself fails.
    const result = await ssmRun.handler(ctx({ instance: WEB1, command: `tail -n 5 ${logs}` }, { grant: tailLogs }))
    assert.equal(result.structured?.['status'], 'Failed')
    assert.equal(result.structured?.['exitCode'], 1)
    assert.match(String(result.structured?.['stderr']), /Is a directory/)
  })

  it('refuses a path that does not exist on the instance, before the command runs', async () => {
    await refusedWith(ssmRun.handler(ctx({ instance: WEB1, command: 'cat /var/log/airlock-no-such-file.log' })), 'PATH_NOT_ALLOWED')
  })

  it('reports the grant timeout as status TimedOut', async () => {
    const progress: ProgressUpdate[] = []
    const result = await ssmRun.handler(ctx({ instance: WEB1, command: 'sleep 30' }, { progress }))
    assert.equal(result.structured?.['status'], 'TimedOut')
    // A two-second run is polled while in progress, and the caller hears about it.
    assert.ok(progress.length >= 1, 'expected: progress.length >= 1')
    assert.match(progress[0]?.message ?? '', /^i-0a1b2c3d4e5f60001: (Pending|InProgress)$/)
    assert.equal(result.structured?.['exitCode'], 137)
  })

  it('caps output at maxOutputBytes and says so', async () => {
    const result = await ssmRun.handler(ctx({ instance: WEB1, command: 'head -c 5000 /dev/zero' }))
    assert.equal(result.structured?.['truncated'], true)
    assert.equal(Buffer.byteLength(String(result.structured?.['stdout'])), 1000)
  })

  it('resolves a Name tag value within the connection', async () => {
    const result = await ssmRun.handler(ctx({ instance: 'web-2', command: 'uptime' }))
    assert.equal(result.structured?.['instance'], WEB2)
  })

  it('resolves tag targets through DescribeInstanceInformation', async () => {
    const tagged = connection({ targets: { 'tag:role': ['web'] } }, 'web-tagged')
    const result = await ssmRun.handler(ctx({ instance: WEB2, command: 'df -h' }, { connection: tagged }))
    assert.equal(result.structured?.['instance'], WEB2)
    const lookups = trail.entries().filter((e) => e.action === 'DescribeInstanceInformation').length
    await refusedWith(ssmRun.handler(ctx({ instance: DB, command: 'df -h' }, { connection: tagged })), 'INSTANCE_NOT_ALLOWED')
    await refusedWith(ssmRun.handler(ctx({ instance: 'db-1', command: 'df -h' }, { connection: tagged })), 'INSTANCE_NOT_ALLOWED')
    // The target lookup is cached; only the Name lookup for db-1 went to SSM.
    assert.equal(trail.entries().filter((e) => e.action === 'DescribeInstanceInformation').length, lookups + 1)
  })

  it('refuses a Name that matches several instances of the connection', async () => {
    const tagged = connection({ targets: { 'tag:role': ['web'] } }, 'web-twins')
    const execs = emulator.executions().length
    await refusedWith(ssmRun.handler(ctx({ instance: 'twin', command: 'uptime' }, { connection: tagged })), 'INPUT_INVALID')
    assert.equal(emulator.executions().length, execs)
  })

  it('refuses an instance outside the connection without any AWS call', async () => {
    const before = trail.entries().length
    const execs = emulator.executions().length
    await refusedWith(ssmRun.handler(ctx({ instance: DB, command: 'uptime' })), 'INSTANCE_NOT_ALLOWED')
    await refusedWith(ssmRun.handler(ctx({ instance: 'not a name; reboot', command: 'uptime' })), 'INSTANCE_NOT_ALLOWED')
    assert.equal(trail.entries().length, before)
    assert.equal(emulator.executions().length, execs)
  })

  it('maps an offline instance to INSTANCE_UNAVAILABLE', async () => {
    await refusedWith(ssmRun.handler(ctx({ instance: GONE, command: 'uptime' })), 'INSTANCE_UNAVAILABLE')
  })

  it('maps throttling to AWS_THROTTLED', async () => {
    emulator.failNext('SendCommand', 'ThrottlingException')
    await refusedWith(ssmRun.handler(ctx({ instance: WEB1, command: 'uptime' })), 'AWS_THROTTLED')
  })

  it('maps refused credentials to AWS_CREDENTIALS without leaking the AWS body', async () => {
    const forged = createAwsClients({ credentials: async () => ({ ...KEY, secretAccessKey: 'wrong' }), endpoints: { ssm: emulator.endpoint }, maxAttempts: 1 })
    const context = { ...ctx({ instance: WEB1, command: 'uptime' }), deps: createToolDeps({ aws: forged, clock: systemClock }) }
    await refusedWith(ssmRun.handler(context), 'AWS_CREDENTIALS')
  })

  it('cancels the command when the caller aborts', async () => {
    const controller = new AbortController()
    const from = trail.entries().length
    const running = ssmRun.handler(ctx({ instance: WEB1, command: 'sleep 20' }, { signal: controller.signal, grant: grant({ commands: [['sleep', '{int}']], timeoutSeconds: 30 }) }))
    while (!trail.entries().slice(from).some((e) => e.action === 'GetCommandInvocation' && e.detail?.['status'] === 'InProgress')) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    controller.abort()
    await refusedWith(running, 'CANCELLED')
    assert.ok(trail.entries().slice(from).some((e) => e.action === 'CancelCommand' && e.outcome === 'ok'), 'expected: trail.entries().slice(from).some((e) => e.action === \'CancelCommand\' && e.outcome === \'ok\')')
    const exec = emulator.executions().at(-1)
    assert.equal(exec?.script, "'sleep' '20'")
  })

  it('sends nothing when the call is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    const sends = trail.entries().filter((e) => e.action === 'SendCommand').length
    await refusedWith(ssmRun.handler(ctx({ instance: WEB1, command: 'uptime' }, { signal: controller.signal })), 'CANCELLED')
    assert.equal(trail.entries().filter((e) => e.action === 'SendCommand').length, sends)
  })

  it('matches against the templates resolved with the policy, not a fresh parse of the command words', async () => {
    const resolved = grant({ commands: [['uptime']] })
    assert.ok(resolved.ssm !== undefined, 'expected: resolved.ssm !== undefined')
    // Only a tool that parsed `commands` itself at call time would accept uptime here.
    const noTemplates = { ...resolved, ssm: { ...resolved.ssm, templates: [] } }
    const sends = trail.entries().filter((e) => e.action === 'SendCommand').length
    await refusedWith(ssmRun.handler(ctx({ instance: WEB1, command: 'uptime' }, { grant: noTemplates })), 'COMMAND_NOT_ALLOWED')
    assert.equal(trail.entries().filter((e) => e.action === 'SendCommand').length, sends)
  })

  it('refuses without an ssm block in the grant', async () => {
    await refusedWith(ssmRun.handler(ctx({ instance: WEB1, command: 'uptime' }, { grant: grant(undefined) })), 'POLICY_DENIED')
  })

  it('gives up at its own deadline with COMMAND_TIMED_OUT and cancels the command', async () => {
    const slowTrail = createTrail(systemClock)
    const slow = await startSsmEmulator({
      store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
      trail: slowTrail,
      clock: systemClock,
      instances: [{ instanceId: WEB1, name: 'web-1' }],
      deliveryDelayMs: 600_000,
    })
    try {
      const clock = createManualClock(systemClock.now())
      const slowAws = createAwsClients({ credentials: async () => KEY, endpoints: { ssm: slow.endpoint }, maxAttempts: 1 })
      const context = { ...ctx({ instance: WEB1, command: 'uptime' }), deps: createToolDeps({ aws: slowAws, clock }) }
      const running = ssmRun.handler(context)
      // Never delivered: the gateway keeps retrying InvocationDoesNotExist until its clock passes the deadline.
      while (!slowTrail.entries().some((e) => e.action === 'GetCommandInvocation' && e.outcome === 'InvocationDoesNotExist')) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      clock.advance(3_600_000)
      await refusedWith(running, 'COMMAND_TIMED_OUT')
      assert.ok(slowTrail.entries().some((e) => e.action === 'CancelCommand' && e.outcome === 'ok'), 'expected: slowTrail.entries().some((e) => e.action === \'CancelCommand\' && e.outcome === \'ok\')')
      assert.equal(slow.executions().length, 0)
    } finally {
      await slow.close()
    }
  })

  describe('escape fixtures through the tool', () => {
    for (const fixture of ESCAPE_FIXTURES) {
      it(`refuses ${fixture.name} before anything reaches an instance`, async () => {
        const execs = emulator.executions().length
        const sends = trail.entries().filter((e) => e.action === 'SendCommand').length
        await refusedWith(ssmRun.handler(ctx({ instance: WEB1, command: fixture.input })), fixture.code)
        assert.equal(emulator.executions().length, execs)
        assert.equal(trail.entries().filter((e) => e.action === 'SendCommand').length, sends)
      })
    }
    it('let no escape script reach any instance', () => {
      for (const exec of emulator.executions()) {
        assert.ok(!/reboot|pwned|`/.test(exec.script), exec.script)
        // The gateway's own path check substitutes realpath; the command line itself never substitutes.
        assert.ok(!/\$\(/.test(exec.script.split('\n').at(-1) ?? ''), exec.script)
      }
    })
  })
})
