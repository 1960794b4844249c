import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetCommandInvocationCommand, SSMClient, SendCommandCommand, type GetCommandInvocationCommandOutput } from '@aws-sdk/client-ssm'
import { systemClock } from '../../../src/clock.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator, type SsmEmulator } from '../../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../../src/sandbox/trail.js'
import { createTeardown } from '../../support/teardown.js'

const KEY = { accessKeyId: 'AKIAIOSFODNN7ISOLATE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYISOLATEKY' }
const PRINCIPAL = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
const WEB1 = 'i-0a1b2c3d4e5f60001'
const WEB2 = 'i-0a1b2c3d4e5f60002'

async function runOn(ssm: SSMClient, instanceId: string, script: string): Promise<GetCommandInvocationCommandOutput> {
  const sent = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [instanceId], Parameters: { commands: [script] } }))
  const id = sent.Command?.CommandId ?? ''
  for (;;) {
    try {
      const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: instanceId }))
      if (['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(out.Status ?? '')) return out
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'InvocationDoesNotExist') throw error
    }
    await sleep(20)
  }
}

describe('SSM emulator instances: each command runs in its own sandbox, never on the host', () => {
  const teardown = createTeardown()
  let emulator: SsmEmulator
  let ssm: SSMClient
  let hostDir = ''
  const instances = [{ instanceId: WEB1, name: 'web-1' }, { instanceId: WEB2, name: 'web-2' }]

  before(async () => {
    const store = createCredentialStore([{ ...KEY, principalArn: PRINCIPAL }])
    emulator = await startSsmEmulator({ store, trail: createTrail(systemClock), clock: systemClock, instances, deliveryDelayMs: 5 })
    teardown.add(() => emulator.close())
    ssm = new SSMClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: KEY, maxAttempts: 1 })
    teardown.add(() => ssm.destroy())
    hostDir = await mkdtemp(join(tmpdir(), 'airlock-host-only-'))
    await writeFile(join(hostDir, 'host-secret.txt'), 'only on the host\n')
    teardown.add(() => rm(hostDir, { recursive: true, force: true }))
  })
  after(() => teardown.run())

  it("shows the instance's own host name, os-release and empty /home, not the host's", async () => {
    const out = await runOn(ssm, WEB1, 'cat /etc/hostname; hostname; ls -A /home | wc -l; grep ^ID= /etc/os-release')
    assert.equal(out.Status, 'Success', out.StandardErrorContent)
    assert.equal(out.StandardOutputContent, 'web-1\nweb-1\n0\nID=airlock-sandbox\n')
    const web2 = await runOn(ssm, WEB2, 'cat /etc/hostname')
    assert.equal(web2.StandardOutputContent, 'web-2\n')
    assert.notEqual(hostname(), 'web-1', 'the host is not called web-1 (else this test proves nothing)')
  })

  it("lists only the instance's own processes", async () => {
    const out = await runOn(ssm, WEB1, 'ps -e -o pid=,comm=')
    assert.equal(out.Status, 'Success', out.StandardErrorContent)
    const commands = (out.StandardOutputContent ?? '').trim().split('\n').map((line) => line.trim().split(/\s+/)[1])
    assert.deepEqual(commands, ['bwrap', 'sh', 'ps'], out.StandardOutputContent)
    assert.doesNotMatch(out.StandardOutputContent ?? '', /node/, 'the emulator (a node process) is not visible')
    const args = await runOn(ssm, WEB1, 'ps -e -o args=')
    assert.ok(!(args.StandardOutputContent ?? '').includes(emulator.instanceDir(WEB1)), `no host path in the process list: ${args.StandardOutputContent}`)
  })

  it('cannot see a file created on the host, nor the host path of its own root', async () => {
    const out = await runOn(ssm, WEB1, `cat ${join(hostDir, 'host-secret.txt')}; ls ${hostDir}; ls ${emulator.instanceDir(WEB1)}`)
    assert.equal(out.Status, 'Failed')
    assert.doesNotMatch(out.StandardOutputContent ?? '', /only on the host/)
    assert.match(out.StandardErrorContent ?? '', /No such file or directory/)
  })

  it('cannot write outside /tmp; /tmp is writable and its own per command', async () => {
    const out = await runOn(ssm, WEB1, 'for p in /etc/x /var/log/x /usr/x /x /home/x; do touch $p 2>/dev/null && echo "wrote $p"; done; echo ok > /tmp/mine && cat /tmp/mine')
    assert.equal(out.StandardOutputContent, 'ok\n', 'only /tmp took a write')
    const later = await runOn(ssm, WEB1, 'ls -A /tmp | wc -l')
    assert.equal(later.StandardOutputContent, '0\n', 'a new command starts with an empty /tmp')
    await assert.rejects(readFile(join(emulator.instanceDir(WEB1), 'tmp', 'mine')), 'nothing reached the instance tree on the host')
  })

  it('has no network but loopback', async () => {
    const out = await runOn(ssm, WEB1, 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "')
    assert.equal(out.StandardOutputContent, 'lo\n')
  })

  it('runs as an unprivileged user with no capabilities', async () => {
    const out = await runOn(ssm, WEB1, 'id -un; grep ^CapEff /proc/self/status')
    assert.equal(out.StandardOutputContent, 'ssm-user\nCapEff:\t0000000000000000\n')
  })
})

describe('SSM emulator without bubblewrap', () => {
  const teardown = createTeardown()
  after(() => teardown.run())

  it('fails every command with a clear message and runs nothing on the host', async () => {
    const store = createCredentialStore([{ ...KEY, principalArn: PRINCIPAL }])
    const marker = join(tmpdir(), `airlock-no-bwrap-${process.pid}`)
    const emulator = await startSsmEmulator({ store, trail: createTrail(systemClock), clock: systemClock, instances: [{ instanceId: WEB1, name: 'web-1' }], deliveryDelayMs: 5, bwrap: '/nonexistent/bwrap' })
    teardown.add(() => emulator.close())
    const ssm = new SSMClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: KEY, maxAttempts: 1 })
    teardown.add(() => ssm.destroy())
    const out = await runOn(ssm, WEB1, `touch ${marker}; echo ran`)
    assert.equal(out.Status, 'Failed')
    assert.equal(out.ResponseCode, 127)
    assert.equal(out.StandardOutputContent, '')
    assert.match(out.StandardErrorContent ?? '', /runs commands only under bubblewrap, which was not found at \/nonexistent\/bwrap; install it .*Nothing was run/)
    await assert.rejects(readFile(marker), 'the script did not run on the host')
  })
})
