import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  SSMClient,
  SendCommandCommand,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm'
import { createManualClock, systemClock } from '../../../src/clock.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator, type SsmEmulator } from '../../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail, type Trail } from '../../../src/sandbox/trail.js'
import { createTeardown } from '../../support/teardown.js'

const KEY = { accessKeyId: 'AKIAIOSFODNN7SSMTEST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSSMTESTKEY' }
const PRINCIPAL = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
const WEB1 = 'i-0a1b2c3d4e5f60001'
const WEB2 = 'i-0a1b2c3d4e5f60002'
const DB = 'i-0a1b2c3d4e5f60003'
const INSTANCES = [
  { instanceId: WEB1, name: 'web-1', tags: { role: 'web' } },
  { instanceId: WEB2, name: 'web-2', tags: { role: 'web' } },
  { instanceId: DB, name: 'db-1', tags: { role: 'db' }, online: false },
]

function client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string } = KEY): SSMClient {
  return new SSMClient({ region: 'eu-west-1', endpoint, credentials, maxAttempts: 1 })
}

async function rejectsWith(promise: Promise<unknown>, name: string, status = 400): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof Error, 'e instanceof Error')
    assert.equal(e.name, name)
    assert.equal(Reflect.get(Reflect.get(e, '$metadata') ?? {}, 'httpStatusCode'), status)
    return true
  })
}

async function waitFor(ssm: SSMClient, commandId: string, instanceId: string, until: (s: string) => boolean): Promise<GetCommandInvocationCommandOutput> {
  for (;;) {
    try {
      const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
      if (until(out.Status ?? '')) return out
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'InvocationDoesNotExist') throw error
    }
    await sleep(25)
  }
}

const terminal = (s: string): boolean => ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(s)

async function run(ssm: SSMClient, commands: string[], extra: Record<string, string[]> = {}): Promise<{ id: string; out: GetCommandInvocationCommandOutput }> {
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Parameters: { commands, ...extra } }))
  const id = sent.Command?.CommandId ?? ''
  return { id, out: await waitFor(ssm, id, WEB1, terminal) }
}

describe('SSM emulator', () => {
  const clock = createManualClock(systemClock.now())
  let trail: Trail
  let emulator: SsmEmulator
  let ssm: SSMClient

  const teardown = createTeardown()
  before(async () => {
    trail = createTrail(clock)
    const store = createCredentialStore([{ ...KEY, principalArn: PRINCIPAL, sourceIdentity: 'alice@example.com' }])
    emulator = await startSsmEmulator({ store, trail, clock, instances: INSTANCES, deliveryDelayMs: 5 })
    teardown.add(() => emulator.close())
    ssm = client(emulator.endpoint)
    teardown.add(() => ssm.destroy())
  })
  after(() => teardown.run())

  it('describes instances with ping status, epoch timestamps and tag filters', async () => {
    const all = await ssm.send(new DescribeInstanceInformationCommand({}))
    assert.deepEqual(all.InstanceInformationList?.map((i) => [i.InstanceId, i.PingStatus]), [[WEB1, 'Online'], [WEB2, 'Online'], [DB, 'ConnectionLost']])
    const first = all.InstanceInformationList?.[0]
    assert.ok(first?.LastPingDateTime instanceof Date, 'first?.LastPingDateTime instanceof Date')
    assert.equal(first.LastPingDateTime.getTime(), clock.now())
    assert.equal(first.ComputerName, 'web-1.ec2.internal')
    const web = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:role', Values: ['web'] }] }))
    assert.deepEqual(web.InstanceInformationList?.map((i) => i.InstanceId), [WEB1, WEB2])
    const named = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:Name', Values: ['web-2'] }] }))
    assert.deepEqual(named.InstanceInformationList?.map((i) => i.InstanceId), [WEB2])
    await rejectsWith(ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Bogus', Values: ['x'] }] })), 'InvalidFilterKey')
  })

  it('runs a script: Pending on send, then Success with output and exit code', async () => {
    const sent = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Comment: 'via test', Parameters: { commands: ['echo hello'] } }))
    const cmd = sent.Command
    assert.match(cmd?.CommandId ?? '', /^[0-9a-f-]{36}$/)
    assert.equal(cmd?.Status, 'Pending')
    assert.equal(cmd?.RequestedDateTime?.getTime(), clock.now())
    assert.equal(cmd?.ExpiresAfter?.getTime(), clock.now() + 3600_000)
    assert.deepEqual(cmd?.Parameters, { commands: ['echo hello'] })
    const out = await waitFor(ssm, cmd?.CommandId ?? '', WEB1, terminal)
    assert.equal(out.Status, 'Success')
    assert.equal(out.StatusDetails, 'Success')
    assert.equal(out.ResponseCode, 0)
    assert.equal(out.StandardOutputContent, 'hello\n')
    assert.equal(out.StandardErrorContent, '')
    assert.equal(out.PluginName, 'aws:runShellScript')
    assert.equal(out.Comment, 'via test')
    assert.equal(out.ExecutionStartDateTime, new Date(clock.now()).toISOString())
    assert.match(out.ExecutionElapsedTime ?? '', /^PT\d+\.\d{3}S$/)
    const exec = emulator.executions().find((e) => e.commandId === cmd?.CommandId)
    assert.deepEqual(exec, { instanceId: WEB1, commandId: cmd?.CommandId, script: 'echo hello', principalArn: PRINCIPAL, sourceIdentity: 'alice@example.com' })
    const entry = trail.entries().find((e) => e.action === 'SendCommand' && e.detail?.['commandId'] === cmd?.CommandId)
    assert.equal(entry?.principalArn, PRINCIPAL)
    assert.equal(entry?.accessKeyId, KEY.accessKeyId)
    assert.equal(entry?.region, 'eu-west-1')
    assert.equal(entry?.outcome, 'ok')
  })

  it('reports a non-zero exit as Failed with the exit code and stderr', async () => {
    const { out } = await run(ssm, ['echo oops >&2', 'exit 3'])
    assert.equal(out.Status, 'Failed')
    assert.equal(out.ResponseCode, 3)
    assert.equal(out.StandardErrorContent, 'oops\n')
  })

  it('runs at the instance root with a minimal environment', async () => {
    const { out } = await run(ssm, ['test "$HOME" = /tmp && test "$(pwd)" = / && echo root-and-tmp-home', 'env | cut -d= -f1 | sort | tr "\\n" " "', 'echo', 'cat var/log/app/app.log | head -n 1'])
    const [home, names, log] = (out.StandardOutputContent ?? '').split('\n')
    assert.equal(home, 'root-and-tmp-home')
    for (const name of (names ?? '').trim().split(' ')) assert.ok(['HOME', 'LANG', 'OLDPWD', 'PATH', 'PWD', 'SHLVL', '_'].includes(name), name)
    assert.equal(log, 'web-1 app: listening on :8080')
  })

  it('truncates output like the agent', async () => {
    const { id, out } = await run(ssm, ["head -c 30000 /dev/zero | tr '\\0' a", "head -c 9000 /dev/zero | tr '\\0' b >&2"])
    assert.equal(out.StandardOutputContent?.length, 24_000)
    assert.ok(out.StandardOutputContent?.endsWith('a\n---Output truncated---'), "out.StandardOutputContent?.endsWith('a\\n---Output truncated---')")
    assert.equal(out.StandardErrorContent?.length, 8_000)
    assert.ok(out.StandardErrorContent?.endsWith('b\n---Error truncated----'), "out.StandardErrorContent?.endsWith('b\\n---Error truncated----')")
    const listed = await ssm.send(new ListCommandInvocationsCommand({ CommandId: id, Details: true }))
    const plugin = listed.CommandInvocations?.[0]?.CommandPlugins?.[0]
    assert.equal(plugin?.Name, 'aws:runShellScript')
    assert.ok((plugin?.Output?.length ?? 0) <= 2500, '(plugin?.Output?.length ?? 0) <= 2500')
    assert.match(plugin?.Output ?? '', /---Output truncated---\n----------ERROR-------\nb+\n---Error truncated----$/)
    assert.ok(plugin?.ResponseStartDateTime instanceof Date, 'plugin?.ResponseStartDateTime instanceof Date')
  })

  it('honours executionTimeout: TimedOut with the agent exit code', async () => {
    const { out } = await run(ssm, ['echo started', 'sleep 20'], { executionTimeout: ['1'] })
    assert.equal(out.Status, 'TimedOut')
    assert.equal(out.StatusDetails, 'ExecutionTimedOut')
    assert.equal(out.ResponseCode, 137)
    assert.equal(out.StandardOutputContent, 'started\n')
  })

  it('cancels a running command', async () => {
    const sent = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Parameters: { commands: ['sleep 30'] } }))
    const id = sent.Command?.CommandId ?? ''
    await waitFor(ssm, id, WEB1, (s) => s === 'InProgress')
    await ssm.send(new CancelCommandCommand({ CommandId: id }))
    const out = await waitFor(ssm, id, WEB1, terminal)
    assert.equal(out.Status, 'Cancelled')
    await rejectsWith(ssm.send(new CancelCommandCommand({ CommandId: '00000000-0000-0000-0000-000000000000' })), 'InvalidCommandId')
  })

  it('sends to tag targets and lists invocations', async () => {
    const sent = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', Targets: [{ Key: 'tag:role', Values: ['web'] }], Parameters: { commands: ['true'] } }))
    const id = sent.Command?.CommandId ?? ''
    assert.equal(sent.Command?.TargetCount, 2)
    await waitFor(ssm, id, WEB2, terminal)
    const listed = await ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))
    assert.deepEqual(listed.CommandInvocations?.map((i) => i.InstanceId).sort(), [WEB1, WEB2])
    assert.ok(listed.CommandInvocations?.[0]?.RequestedDateTime instanceof Date, 'listed.CommandInvocations?.[0]?.RequestedDateTime instanceof Date')
    assert.deepEqual(listed.CommandInvocations?.[0]?.CommandPlugins, [])
  })

  it('answers SSM errors with their __type', async () => {
    const send = (input: Record<string, unknown>) =>
      ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Parameters: { commands: ['true'] }, ...input }))
    const before = emulator.executions().length
    await rejectsWith(send({ DocumentName: 'AWS-RunPowerShellScript' }), 'InvalidDocument')
    await rejectsWith(send({ Parameters: {} }), 'InvalidParameters')
    await rejectsWith(send({ Parameters: { commands: ['true'], evil: ['x'] } }), 'InvalidParameters')
    await rejectsWith(send({ Parameters: { commands: ['true'], executionTimeout: ['0'] } }), 'InvalidParameters')
    await rejectsWith(send({ InstanceIds: ['i-0fffffffffffffff0'] }), 'InvalidInstanceId')
    await rejectsWith(send({ InstanceIds: [DB] }), 'InvalidInstanceId')
    await rejectsWith(send({ TimeoutSeconds: 5 }), 'ValidationException')
    await rejectsWith(send({ InstanceIds: [] }), 'ValidationException')
    await rejectsWith(
      ssm.send(new GetCommandInvocationCommand({ CommandId: '00000000-0000-0000-0000-000000000000', InstanceId: WEB1 })),
      'InvocationDoesNotExist',
    )
    emulator.failNext('SendCommand', 'ThrottlingException')
    await rejectsWith(send({}), 'ThrottlingException')
    assert.equal(emulator.executions().length, before)
    assert.ok(trail.entries().some((e) => e.outcome === 'ThrottlingException' && e.action === 'SendCommand'), "trail.entries().some((e) => e.outcome === 'ThrottlingException' && e.action === 'SendCommand')")
  })

  it('refuses bad signatures and unknown keys before running anything', async () => {
    const before = emulator.executions().length
    const trailBefore = trail.entries().length
    const forged = client(emulator.endpoint, { accessKeyId: KEY.accessKeyId, secretAccessKey: 'not-the-secret' })
    await rejectsWith(forged.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Parameters: { commands: ['touch pwned'] } })), 'InvalidSignatureException')
    const stranger = client(emulator.endpoint, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' })
    await rejectsWith(stranger.send(new DescribeInstanceInformationCommand({})), 'UnrecognizedClientException')
    forged.destroy()
    stranger.destroy()
    const unsigned = await fetch(`${emulator.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.SendCommand' },
      body: JSON.stringify({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Parameters: { commands: ['touch pwned'] } }),
    })
    assert.equal(unsigned.status, 400)
    const body: unknown = await unsigned.json()
    assert.equal(Reflect.get(Object(body), '__type'), 'MissingAuthenticationTokenException')
    await sleep(50)
    assert.equal(emulator.executions().length, before)
    const refused = trail.entries().slice(trailBefore)
    assert.deepEqual(refused.map((e) => e.outcome), ['InvalidSignatureException', 'UnrecognizedClientException', 'MissingAuthenticationTokenException'])
    assert.ok(refused.every((e) => e.principalArn === ''), "refused.every((e) => e.principalArn === '')")
  })
})

describe('SSM emulator delivery', () => {
  it('answers InvocationDoesNotExist until delivery and cancels a pending command', async () => {
    const clock = systemClock
    const store = createCredentialStore([{ ...KEY, principalArn: PRINCIPAL }])
    const emulator = await startSsmEmulator({ store, trail: createTrail(clock), clock, instances: INSTANCES, deliveryDelayMs: 60_000 })
    const ssm = client(emulator.endpoint)
    try {
      const sent = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [WEB1], Parameters: { commands: ['true'] } }))
      const id = sent.Command?.CommandId ?? ''
      await rejectsWith(ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: WEB1 })), 'InvocationDoesNotExist')
      const listed = await ssm.send(new ListCommandInvocationsCommand({ CommandId: id }))
      assert.equal(listed.CommandInvocations?.[0]?.Status, 'Pending')
      await ssm.send(new CancelCommandCommand({ CommandId: id }))
      const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: WEB1 }))
      assert.equal(out.Status, 'Cancelled')
      assert.equal(emulator.executions().length, 0)
    } finally {
      ssm.destroy()
      await emulator.close()
    }
  })
})
