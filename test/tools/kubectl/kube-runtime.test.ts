import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type { AwsTarget } from '../../../src/aws/aws-clients.js'
import { createAwsClients } from '../../../src/cli/create-aws-clients.js'
import { createManualClock, systemClock, type ManualClock } from '../../../src/clock.js'
import { startEksEmulator, type EksEmulator } from '../../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer, type KubeApiServer } from '../../../src/sandbox/kube-api/kube-api-server.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../../../src/sandbox/trail.js'
import { createKubeRuntime, type KubeRuntime } from '../../../tools/kubectl/kube-runtime.js'
import { GATEWAY, GATEWAY_MAPPING } from '../../sandbox/kube-api/kube-harness.js'

const ROLE = 'arn:aws:iam::111122223333:role/airlock-eks'
const KEY = { accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }

describe('createKubeRuntime', () => {
  let clock: ManualClock
  let kube: KubeApiServer
  let eks: EksEmulator
  let aws: ReturnType<typeof createAwsClients>

  before(async () => {
    // The AWS SDK signs with real time; the gateway clock (tokens) and the cluster share a manual one.
    clock = createManualClock(systemClock.now())
    const store = createCredentialStore([GATEWAY])
    kube = await startKubeApiServer({ store, clock, clusterName: 'demo', region: 'us-east-1', mappings: [GATEWAY_MAPPING] })
    eks = await startEksEmulator({ store, trail: createTrail(clock), clock: systemClock, clusters: [{ name: 'demo', region: 'us-east-1', endpoint: kube.url, caPem: kube.caPem }] })
    aws = createAwsClients({
      credentials: async () => KEY,
      // Every principal's role session signs as the gateway here: what differs is only the identity it is cached for.
      roleCredentials: () => async () => KEY,
      endpoints: { eks: eks.endpoint },
      maxAttempts: 1,
    })
  })
  after(async () => {
    await eks.close()
    await kube.close()
  })

  const as = (subject: string): AwsTarget => ({ region: 'us-east-1', roleArn: ROLE, principal: { issuer: 'https://idp', subject, groups: [], expiresAt: 0 } })
  const apis = async (runtime: KubeRuntime, subject: string): Promise<unknown> => (await runtime.apisFor(as(subject), 'demo', new AbortController().signal)).apis

  test('reuses the clients of an identity, and works against the cluster', async () => {
    const runtime = createKubeRuntime({ aws, clock })
    const { info, apis: first } = await runtime.apisFor(as('alice'), 'demo', new AbortController().signal)
    assert.equal(info.endpoint, kube.url)
    assert.equal((await first.core.listNamespacedPod({ namespace: 'shop' })).items.length, 3)
    assert.equal(await apis(runtime, 'alice'), first)
    assert.notEqual(await apis(runtime, 'bob'), first, 'another principal on a role gets its own clients')
  })

  test('keeps clients for at most maxIdentities identities, dropping the least recently used', async () => {
    const runtime = createKubeRuntime({ aws, clock, maxIdentities: 2 })
    const alice = await apis(runtime, 'alice')
    const bob = await apis(runtime, 'bob')
    assert.equal(await apis(runtime, 'alice'), alice)
    await apis(runtime, 'carol')
    assert.equal(await apis(runtime, 'alice'), alice, 'alice was used more recently than bob')
    assert.notEqual(await apis(runtime, 'bob'), bob, "bob's clients were dropped")
  })

  test('drops the clients of an identity unused for idleMs', async () => {
    const runtime = createKubeRuntime({ aws, clock, idleMs: 60_000 })
    const first = await apis(runtime, 'alice')
    clock.advance(59_000)
    assert.equal(await apis(runtime, 'alice'), first)
    clock.advance(59_000)
    assert.equal(await apis(runtime, 'alice'), first, 'each use restarts the idle time')
    clock.advance(60_000)
    const second = await apis(runtime, 'alice')
    assert.notEqual(second, first)
  })
})

test('building the runtime (as the gateway does at start-up) does not load @kubernetes/client-node', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kube-runtime-'))
  try {
    const hooks = join(dir, 'hooks.mjs')
    const register = join(dir, 'register.mjs')
    await writeFile(hooks, `export async function load(url, context, next) {
      if (url.includes('@kubernetes/client-node')) console.log('LOADED ' + url)
      return next(url, context)
    }`)
    await writeFile(register, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)})`)
    const script = `
      const { createKubeRuntime } = await import('./tools/kubectl/kube-runtime.ts')
      const { createAwsClients } = await import('./src/cli/create-aws-clients.ts')
      createKubeRuntime({ aws: createAwsClients({ credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) }), clock: { now: () => 0 } })
      console.log('built')
      if (process.argv.includes('--load')) await import('./src/aws/kube-client.ts')
    `
    const run = (...extra: string[]) =>
      promisify(execFile)(process.execPath, ['--import', pathToFileURL(register).href, '--import', 'tsx', '--input-type=module', '-e', script, '--', ...extra], { cwd: new URL('../../../', import.meta.url) })
    const idle = await run()
    assert.match(idle.stdout, /^built$/m)
    assert.doesNotMatch(idle.stdout, /LOADED/)
    // The hook does see the package when it is loaded, so the assertion above can fail.
    assert.match((await run('--load')).stdout, /LOADED/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
