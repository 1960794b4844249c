import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { systemClock } from '../../src/clock.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { createTeardown } from '../support/teardown.js'
import { startE2E, type E2E } from './support/start-e2e.js'

const GATEWAY_SESSION = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/e2e'
const WEB1 = 'i-0a1b2c3d4e5f60001'
const credentials = { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(40).toString('base64') }

function textOf(result: object): string {
  return JSON.stringify([Reflect.get(result, 'content'), Reflect.get(result, 'structuredContent')])
}

const REFUSED = /\[PATH_NOT_ALLOWED\] A path in the command does not resolve on the instance to a location inside the tree your grant allows[^"]*correlation id [0-9a-f]{12}/

describe('ssm_run through the gateway: a link under an allowed tree that leads out of it is refused on the instance', () => {
  const teardown = createTeardown()
  let ssm: SsmEmulator
  let e2e: E2E
  let logs = ''

  before(async () => {
    ssm = await startSsmEmulator({ store: createCredentialStore([{ ...credentials, principalArn: GATEWAY_SESSION }]), trail: createTrail(systemClock), clock: systemClock, instances: [{ instanceId: WEB1, name: 'web-1' }] })
    teardown.add(() => ssm.close())
    logs = '/var/log'
    e2e = await startE2E({
      startMs: systemClock.now(),
      awsCredentials: async () => credentials,
      config: { awsEndpoints: { ssm: ssm.endpoint } },
      policy: {
        version: 1,
        connections: { web: { kind: 'ssm', region: 'us-east-1', instanceIds: [WEB1] } },
        grants: [{ id: 'sre-logs', groups: ['sre'], connections: ['web'], tools: ['ssm_run'], ssm: { commands: [['cat', `{path:${logs}/**}`]] } }],
      },
    })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  const cat = (path: string) => ({ connection: 'web', instance: WEB1, command: `cat ${logs}/${path}` })

  it('v1 client, 2025 lane: a file link to etc/ is refused, the file behind a link that stays inside is read', async () => {
    const { client } = await e2e.connect(await e2e.token('bob', ['sre']))
    const out = await client.callTool({ name: 'ssm_run', arguments: cat('app/config.log') })
    assert.equal(out.isError, true)
    assert.match(textOf(out), REFUSED)
    assert.doesNotMatch(textOf(out), /db_password|sandbox-only/)
    const inside = await client.callTool({ name: 'ssm_run', arguments: cat('app/current.log') })
    assert.equal(inside.isError, undefined, textOf(inside))
    assert.match(textOf(inside), /app: listening on :8080/)
  })

  it('v2 client, 2026-07-28 lane: a directory link out of the tree and a dangling link are refused', async () => {
    const client = await e2e.connectModern(await e2e.token('bob', ['sre']))
    for (const path of ['etc/app.conf', 'dangling.log']) {
      const out = await client.callTool({ name: 'ssm_run', arguments: cat(path) })
      assert.equal(out.isError, true, path)
      assert.match(textOf(out), REFUSED)
    }
    const plain = await client.callTool({ name: 'ssm_run', arguments: cat('app/app.log') })
    assert.equal(plain.isError, undefined, textOf(plain))
  })

  it('audits the refusal after its intent, with the SSM command that ran only the check', async () => {
    const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    const refused = records.filter((r) => r.type === 'tools.call' && r.code === 'PATH_NOT_ALLOWED')
    assert.equal(refused.length, 3)
    for (const record of refused) {
      assert.equal(record.grantId, 'sre-logs')
      assert.match(String(record.reason), /^word 1: \/\S+ (resolves outside|does not resolve)[^;]*; SSM command \S+ ran only the check$/)
      assert.ok(records.some((r) => r.type === 'tools.intent' && r.correlationId === record.correlationId), 'the intent came first')
    }
  })
})
