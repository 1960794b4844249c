import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, afterEach, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { z } from 'zod'
import type { Principal } from '../../src/auth/principal.js'
import { CLEANUP_TIMEOUT_MS } from '../../src/aws/bounded-send.js'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { createManualClock, systemClock, type Clock } from '../../src/clock.js'
import { callerError } from '../../src/mcp/tool-error-text.js'
import { ssmConnectionSchema, type NamedConnection, type SsmConnection } from '../../src/policy/connection-schema.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail, type Trail } from '../../src/sandbox/trail.js'
import type { ToolContext } from '../../tools/define-tool.js'
import ssmRun from '../../tools/ssm-run.js'
import { DROP_RESPONSE, HANG, startFaultProxy, status, type FaultProxy } from '../support/fault-proxy.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import { timedFailure as failure } from '../support/timed-failure.js'

const KEY = { accessKeyId: 'AKIAIOSFODNN7FAULTST', secretAccessKey: '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' }
const GATEWAY = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
const WEB1 = 'i-0a1b2c3d4e5f60001'
/** The clients' HTTP request timeout in these tests (production: 30 s). */
const REQUEST_MS = 500

const principal: Principal = { issuer: 'https://idp.example.com', subject: 'alice', groups: ['ops'], expiresAt: 4_000_000_000 }
const grant = resolveGrant(grantSchema.parse({ id: 'ops', groups: ['ops'], connections: ['web'], tools: ['ssm_run'], ssm: { commands: [['echo', '{word}'], ['sleep', '{int:1-60}']], timeoutSeconds: 5 } }))
const web: NamedConnection<SsmConnection> = { ...ssmConnectionSchema.parse({ kind: 'ssm', region: 'eu-west-1', instanceIds: [WEB1] }), id: 'web' }

type Args = z.infer<z.ZodObject<typeof ssmRun.input>>

describe('ssm_run under AWS faults (fault proxy in front of the SSM emulator)', () => {
  let trail: Trail
  let emulator: SsmEmulator
  let proxy: FaultProxy
  let aws: ReturnType<typeof createAwsClients>

  function ctx(args: Args, options: { signal?: AbortSignal; clock?: Clock } = {}): ToolContext<Args, 'ssm'> {
    return {
      principal,
      grant,
      connection: web,
      args,
      deps: createToolDeps({ aws, clock: options.clock ?? systemClock }),
      signal: options.signal ?? new AbortController().signal,
      progress: async () => undefined,
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused-by-this-tool' },
    }
  }
  const nonce = () => `n${randomBytes(6).toString('hex')}`
  const ranWith = (word: string) => emulator.executions().filter((e) => e.script === `'echo' '${word}'`).length
  const sends = () => trail.entries().filter((e) => e.action === 'SendCommand').length

  before(async () => {
    trail = createTrail(systemClock)
    emulator = await startSsmEmulator({
      store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
      trail,
      clock: systemClock,
      instances: [{ instanceId: WEB1, name: 'web-1' }],
      deliveryDelayMs: 20,
    })
    proxy = await startFaultProxy(emulator.endpoint)
    // Default retry budget (3 attempts): what is retried is decided by the retry strategy, not by maxAttempts.
    aws = createAwsClients({ credentials: async () => KEY, endpoints: { ssm: proxy.url }, timeouts: { connectMs: 500, requestMs: REQUEST_MS } })
  })
  afterEach(() => proxy.clear())
  after(async () => {
    await proxy.close()
    await emulator.close()
  })

  it('passes through: the proxy itself changes nothing', async () => {
    const word = nonce()
    const result = await ssmRun.handler(ctx({ instance: WEB1, command: `echo ${word}` }))
    assert.equal(result.structured?.['stdout'], `${word}\n`)
    assert.equal(ranWith(word), 1)
  })

  it('a lost SendCommand response runs the command exactly once and says it may have run', async () => {
    const word = nonce()
    const before = sends()
    proxy.fault('SendCommand', DROP_RESPONSE)
    const { code, error } = await failure(ssmRun.handler(ctx({ instance: WEB1, command: `echo ${word}` })))
    await sleep(300) // past the emulator's delivery delay
    assert.equal(sends() - before, 1, 'SendCommand reached SSM once')
    assert.equal(ranWith(word), 1, 'the command ran once')
    assert.equal(code, 'AWS_OUTCOME_UNKNOWN')
    assert.match(callerError(error).text, /may have run; it was not retried/)
  })

  it('a 5xx on SendCommand is not retried either: the outcome is unknown', async () => {
    const word = nonce()
    const seen = proxy.requests().length
    proxy.fault('SendCommand', status(502))
    assert.equal((await failure(ssmRun.handler(ctx({ instance: WEB1, command: `echo ${word}` })))).code, 'AWS_OUTCOME_UNKNOWN')
    assert.equal(proxy.requests().slice(seen).filter((r) => r.action === 'SendCommand').length, 1)
  })

  it('throttling is retried (AWS refused it, nothing ran) and the command runs once', async () => {
    const word = nonce()
    emulator.failNext('SendCommand', 'ThrottlingException', 1)
    const result = await ssmRun.handler(ctx({ instance: WEB1, command: `echo ${word}` }))
    assert.equal(result.structured?.['status'], 'Success')
    assert.equal(ranWith(word), 1)
  })

  it('a refused connection never sent anything: AWS_UNAVAILABLE, not an unknown outcome', async () => {
    const closed = await startFaultProxy(emulator.endpoint)
    const url = closed.url
    await closed.close()
    const offline = createAwsClients({ credentials: async () => KEY, endpoints: { ssm: url }, timeouts: { connectMs: 500, requestMs: REQUEST_MS } })
    const { code } = await failure(ssmRun.handler({ ...ctx({ instance: WEB1, command: 'echo x' }), deps: createToolDeps({ aws: offline, clock: systemClock }) }))
    assert.equal(code, 'AWS_UNAVAILABLE')
  })

  it('a hung SendCommand answers within the request timeout, with an unknown outcome', { timeout: 20_000 }, async () => {
    proxy.fault('SendCommand', HANG)
    const seen = proxy.requests().length
    const { code, ms } = await failure(ssmRun.handler(ctx({ instance: WEB1, command: `echo ${nonce()}` })))
    assert.equal(code, 'AWS_OUTCOME_UNKNOWN')
    assert.ok(ms < REQUEST_MS + 1500, `answered after ${Math.round(ms)} ms`)
    assert.equal(proxy.requests().slice(seen).filter((r) => r.action === 'SendCommand').length, 1, 'not retried')
  })

  it('a hung Name lookup answers within the request timeout', { timeout: 20_000 }, async () => {
    const tagged: NamedConnection<SsmConnection> = { ...ssmConnectionSchema.parse({ kind: 'ssm', region: 'eu-west-1', instanceIds: [WEB1] }), id: 'web-by-name' }
    proxy.fault('DescribeInstanceInformation', HANG)
    const { code, ms } = await failure(ssmRun.handler({ ...ctx({ instance: 'web-1', command: 'echo x' }), connection: tagged }))
    assert.equal(code, 'AWS_UNAVAILABLE')
    assert.ok(ms < REQUEST_MS + 1500, `answered after ${Math.round(ms)} ms`)
  })

  it('hung GetCommandInvocation polls still end at the deadline: COMMAND_TIMED_OUT and CancelCommand sent', { timeout: 20_000 }, async () => {
    const clock = createManualClock(systemClock.now())
    const seen = proxy.requests().length
    proxy.fault('GetCommandInvocation', HANG)
    const running = failure(ssmRun.handler(ctx({ instance: WEB1, command: 'sleep 30' }, { clock })))
    await proxy.arrived('GetCommandInvocation', seen)
    clock.advance(3_600_000)
    const { code } = await running
    assert.equal(code, 'COMMAND_TIMED_OUT')
    assert.ok(proxy.requests().slice(seen).some((r) => r.action === 'CancelCommand' && r.mode === 'pass'), 'expected: proxy.requests().slice(seen).some((r) => r.action === \'CancelCommand\' && r.mode === \'pass\')')
  })

  it('a caller cancellation interrupts a hung poll at once, and CancelCommand is sent', { timeout: 20_000 }, async () => {
    const controller = new AbortController()
    const seen = proxy.requests().length
    proxy.fault('GetCommandInvocation', HANG)
    const running = failure(ssmRun.handler(ctx({ instance: WEB1, command: 'sleep 30' }, { signal: controller.signal })))
    await proxy.arrived('GetCommandInvocation', seen)
    const aborted = performance.now()
    controller.abort()
    const { code } = await running
    assert.equal(code, 'CANCELLED')
    assert.ok(performance.now() - aborted < 1000, `answered ${Math.round(performance.now() - aborted)} ms after the cancellation`)
    assert.ok(proxy.requests().slice(seen).some((r) => r.action === 'CancelCommand'), 'expected: proxy.requests().slice(seen).some((r) => r.action === \'CancelCommand\')')
  })

  it('a hung CancelCommand does not hold the cancelled call past its own short deadline', { timeout: 20_000 }, async () => {
    const controller = new AbortController()
    const seen = proxy.requests().length
    proxy.fault('GetCommandInvocation', HANG)
    proxy.fault('CancelCommand', HANG)
    const running = failure(ssmRun.handler(ctx({ instance: WEB1, command: 'sleep 30' }, { signal: controller.signal })))
    await proxy.arrived('GetCommandInvocation', seen)
    const aborted = performance.now()
    controller.abort()
    const { code } = await running
    assert.equal(code, 'CANCELLED')
    assert.ok(performance.now() - aborted < CLEANUP_TIMEOUT_MS + 1000, `answered ${Math.round(performance.now() - aborted)} ms after the cancellation`)
  })
})
