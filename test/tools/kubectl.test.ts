import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { z } from 'zod'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { createManualClock, systemClock, type ManualClock } from '../../src/clock.js'
import { AirlockError, GuardError, InputError, UpstreamError } from '../../src/errors.js'
import type { KubectlConstraints } from '../../src/policy/kubectl-constraints.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer, type KubeApiServer } from '../../src/sandbox/kube-api/kube-api-server.js'
import { DEMO_SECRET_VALUES } from '../../src/sandbox/kube-api/kube-fixtures.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail, type Trail } from '../../src/sandbox/trail.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { ToolDeps, ToolResult } from '../../tools/define-tool.js'
import kubectl from '../../tools/kubectl.js'
import { checkKubeAccess, namespaceMatcher, type KubectlArgs } from '../../tools/kubectl/check-kube-access.js'
import { GATEWAY, GATEWAY_MAPPING } from '../sandbox/kube-api/kube-harness.js'

type KubectlInput = z.input<z.ZodObject<typeof kubectl.input>>
const inputSchema = z.object(kubectl.input)
const PAYMENTS_POD = 'payments-5c8d7f9b4-x2k9p'
const READ: Partial<KubectlConstraints> = { verbs: ['get', 'list', 'describe', 'logs', 'events'], resources: ['pods', 'deployments', 'events', 'configmaps'], namespaces: ['shop'] }

describe('kubectl tool against the EKS emulator and the Kubernetes API stand-in', () => {
  let clock: ManualClock
  let kube: KubeApiServer
  let eks: EksEmulator
  let trail: Trail
  let deps: ToolDeps

  before(async () => {
    // The AWS SDK signs with real time; the gateway clock (tokens) and the cluster share a manual one.
    clock = createManualClock(systemClock.now())
    const store = createCredentialStore([GATEWAY])
    trail = createTrail(clock)
    kube = await startKubeApiServer({ store, clock, clusterName: 'demo', region: 'us-east-1', mappings: [GATEWAY_MAPPING] })
    eks = await startEksEmulator({ store, trail, clock: systemClock, clusters: [{ name: 'demo', region: 'us-east-1', endpoint: kube.url, caPem: kube.caPem }] })
    const aws = createAwsClients({
      credentials: async () => ({ accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }),
      endpoints: { eks: eks.endpoint },
      maxAttempts: 1,
    })
    deps = createToolDeps({ aws, clock })
  })
  after(async () => {
    await eks.close()
    await kube.close()
  })

  async function call(input: KubectlInput, constraints: Partial<KubectlConstraints> | null = READ, cluster = 'demo', signal = new AbortController().signal): Promise<ToolResult> {
    const grant = resolveGrant(grantSchema.parse({ id: 'k8s', groups: ['sre'], connections: ['demo'], tools: ['kubectl'], ...(constraints === null ? {} : { kubectl: constraints }) }))
    return kubectl.handler({
      principal: { issuer: 'https://idp.example', subject: 'alice', groups: ['sre'], expiresAt: 4_000_000_000 },
      grant,
      connection: { id: 'demo', kind: 'eks', region: 'us-east-1', cluster },
      args: inputSchema.parse(input),
      deps,
      signal,
      progress: async () => {},
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused-by-this-tool' },
    })
  }

  /** Asserts a refusal happened before anything reached EKS or the cluster. */
  async function refusedLocally(input: KubectlInput, constraints: Partial<KubectlConstraints> | null, expected: new (...args: never[]) => AirlockError, code: string): Promise<void> {
    const kubeBefore = kube.requests().length
    const eksBefore = trail.entries().length
    await assert.rejects(call(input, constraints), (e) => e instanceof expected && e.code === code)
    assert.equal(kube.requests().length, kubeBefore, 'no request reached the cluster')
    assert.equal(trail.entries().length, eksBefore, 'no AWS call was made')
  }

  test('list pods in a granted namespace: table and trimmed objects', async () => {
    const result = await call({ verb: 'list', resource: 'pods', namespace: 'shop' })
    assert.match(result.text, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/)
    assert.match(result.text, new RegExp(`${PAYMENTS_POD}\\s+0/1\\s+CrashLoopBackOff\\s+8`))
    const items = z.array(z.object({ name: z.string(), creationTimestamp: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) })).parse(result.structured?.['items'])
    assert.deepEqual(items.map((i) => i.name), ['checkout-7d9f8b6c5d-h4x7q', 'checkout-7d9f8b6c5d-m2p9z', PAYMENTS_POD])
    assert.equal(kube.requests().at(-1)?.user, 'airlock-gateway')
  })

  test('describe a pod shows its Warning events; env secrets appear as references', async () => {
    const result = await call({ verb: 'describe', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD })
    assert.match(result.text, /BackOff/)
    assert.match(result.text, /<secret payments-db\/password>/)
  })

  test('describe shows no events to a grant that does not include them', async () => {
    const result = await call({ verb: 'describe', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD }, { verbs: ['describe'], resources: ['pods'], namespaces: ['shop'] })
    assert.deepEqual((result.structured as { events: unknown[] }).events, [])
    assert.match(result.text, /Events:\nevents are not shown: your grant does not include events/)
  })

  const denials: Array<[string, KubectlInput, Partial<KubectlConstraints> | null]> = [
    ['a verb the grant does not list (scale)', { verb: 'scale', resource: 'deployments', namespace: 'shop', name: 'checkout', replicas: 3 }, READ],
    ['a write verb (delete-pod)', { verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD }, READ],
    ['secrets not listed in resources', { verb: 'get', resource: 'secrets', namespace: 'shop', name: 'payments-db' }, READ],
    ['a resource not listed (services)', { verb: 'list', resource: 'services', namespace: 'shop' }, READ],
    ['a namespace outside the grant', { verb: 'list', resource: 'pods', namespace: 'kube-system' }, READ],
    ['a namespace that only looks like a granted glob', { verb: 'list', resource: 'pods', namespace: 'shopping' }, { ...READ, namespaces: ['shop', 'mon*'] }],
    ['nodes without namespaces ["*"]', { verb: 'list', resource: 'nodes' }, { ...READ, resources: ['nodes'] }],
    ['a namespace object outside the grant', { verb: 'get', resource: 'namespaces', name: 'kube-system' }, { ...READ, resources: ['namespaces'] }],
    ['a grant without a kubectl block', { verb: 'list', resource: 'pods', namespace: 'shop' }, null],
  ]
  for (const [name, input, constraints] of denials) {
    test(`refuses ${name} before any call`, () => refusedLocally(input, constraints, GuardError, 'K8S_NOT_ALLOWED'))
  }

  test('refuses ill-formed calls as INPUT_INVALID before any call', async () => {
    await refusedLocally({ verb: 'get', resource: 'pods', namespace: 'shop' }, READ, InputError, 'INPUT_INVALID')
    await refusedLocally({ verb: 'logs', resource: 'deployments', namespace: 'shop', name: 'checkout' }, READ, InputError, 'INPUT_INVALID')
    await refusedLocally({ verb: 'list', resource: 'pods' }, READ, InputError, 'INPUT_INVALID')
    assert.throws(() => inputSchema.parse({ verb: 'exec', resource: 'pods' }))
  })

  test('a cancelled call never reaches AWS or the cluster', async () => {
    const kubeBefore = kube.requests().length
    const eksBefore = trail.entries().length
    await assert.rejects(call({ verb: 'list', resource: 'pods', namespace: 'shop' }, READ, 'demo', AbortSignal.abort()), (e) => e instanceof UpstreamError && e.code === 'CANCELLED')
    assert.equal(kube.requests().length, kubeBefore)
    assert.equal(trail.entries().length, eksBefore)
  })

  test('namespace globs allow matching namespaces', async () => {
    const result = await call({ verb: 'list', resource: 'pods', namespace: 'monitoring' }, { ...READ, namespaces: ['shop', 'mon*'] })
    assert.match(result.text, /prometheus/)
  })

  test('a namespace list is filtered to the grant unless it says "*"', async () => {
    const filtered = await call({ verb: 'list', resource: 'namespaces' }, { ...READ, resources: ['namespaces'], namespaces: ['shop', 'monitoring'] })
    assert.deepEqual(z.array(z.object({ name: z.string() })).parse(filtered.structured?.['items']).map((n) => n.name), ['monitoring', 'shop'])
    const all = await call({ verb: 'list', resource: 'namespaces' }, { ...READ, resources: ['namespaces'], namespaces: ['*'] })
    assert.equal(z.array(z.unknown()).parse(all.structured?.['items']).length, 4)
  })

  test('Secret values never appear unless the grant reveals them', async () => {
    const grant = { ...READ, resources: [...(READ.resources ?? []), 'secrets' as const] }
    const outputs = [
      await call({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'payments-db' }, grant),
      await call({ verb: 'describe', resource: 'secrets', namespace: 'shop', name: 'payments-db' }, grant),
      await call({ verb: 'list', resource: 'secrets', namespace: 'shop' }, grant),
      await call({ verb: 'get', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD }, grant),
      await call({ verb: 'describe', resource: 'deployments', namespace: 'shop', name: 'payments' }, grant),
      await call({ verb: 'list', resource: 'deployments', namespace: 'shop' }, grant),
    ]
    const serialized = JSON.stringify(outputs)
    for (const value of Object.values(DEMO_SECRET_VALUES)) {
      const b64 = Buffer.from(value).toString('base64')
      assert.ok(!serialized.includes(b64), `base64 of a secret value leaked`)
    }
    assert.ok(!serialized.includes(DEMO_SECRET_VALUES.password), 'secret value leaked')
    assert.ok(!serialized.includes('last-applied-configuration'), 'expected: !serialized.includes(\'last-applied-configuration\')')
    assert.match(serialized, /<secret shop\/payments-db\/password>/)

    const revealed = await call({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'payments-db' }, { ...grant, revealSecretValues: true })
    assert.ok(JSON.stringify(revealed).includes(DEMO_SECRET_VALUES.password), 'expected: JSON.stringify(revealed).includes(DEMO_SECRET_VALUES.password)')
    assert.ok(!JSON.stringify(revealed).includes('last-applied-configuration'), 'expected: !JSON.stringify(revealed).includes(\'last-applied-configuration\')')
  })

  test('logs are capped by the grant and flagged as truncated', async () => {
    const capped = await call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: 'checkout-7d9f8b6c5d-h4x7q' }, { ...READ, logs: { maxLines: 10, maxBytes: 65_536, maxSinceSeconds: 86_400 } })
    assert.equal(capped.structured?.['lines'], 10)
    assert.equal(capped.structured?.['truncated'], true)
    const bytes = await call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: 'checkout-7d9f8b6c5d-h4x7q' }, { ...READ, logs: { maxLines: 500, maxBytes: 1024, maxSinceSeconds: 86_400 } })
    assert.ok(Buffer.byteLength(String(bytes.structured?.['log'])) <= 1024, 'expected: Buffer.byteLength(String(bytes.structured?.[\'log\'])) <= 1024')
    assert.equal(bytes.structured?.['truncated'], true)
    const whole = await call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD })
    assert.equal(whole.structured?.['truncated'], false)
    assert.match(whole.text, /password authentication failed/)
    const tail = await call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD, tailLines: 2 })
    assert.equal(tail.structured?.['lines'], 2)
    assert.equal(kube.requests().at(-1)?.query['tailLines'], '2')
  })

  test('events for one object', async () => {
    const result = await call({ verb: 'events', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD })
    assert.equal(result.structured?.['count'], 4)
    assert.match(result.text, /Warning\s+BackOff\s+pod\/payments/)
  })

  test('Kubernetes 403 becomes K8S_FORBIDDEN (API server text for operators only) and 404 K8S_NOT_FOUND with its message', async () => {
    const wide = { ...READ, resources: ['secrets' as const], namespaces: ['kube-system'] }
    await assert.rejects(call({ verb: 'list', resource: 'secrets', namespace: 'kube-system' }, wide), (e) =>
      e instanceof UpstreamError && e.code === 'K8S_FORBIDDEN' && /cannot list resource "secrets"/.test(e.message) &&
      e.publicDetail === "The cluster's RBAC does not allow the gateway this operation." && !/arn:aws/.test(e.publicDetail))
    await assert.rejects(call({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'nope' }), (e) =>
      e instanceof UpstreamError && e.code === 'K8S_NOT_FOUND' && e.publicDetail === 'pods "nope" not found')
  })

  test('an unknown cluster is AWS_NOT_FOUND', async () => {
    await assert.rejects(call({ verb: 'list', resource: 'pods', namespace: 'shop' }, READ, 'nope'), (e) => e instanceof UpstreamError && e.code === 'AWS_NOT_FOUND')
  })

  test('DescribeCluster is cached across calls; the token is regenerated before it expires', async () => {
    const describes = () => trail.entries().filter((e) => e.action === 'DescribeCluster' && e.outcome === 'ok').length
    await call({ verb: 'list', resource: 'pods', namespace: 'shop' })
    const before = describes()
    await call({ verb: 'list', resource: 'pods', namespace: 'shop' })
    assert.equal(describes(), before)
    // Past the 15-minute life of the first token: only a regenerated token is accepted now.
    clock.advance(16 * 60_000)
    await call({ verb: 'list', resource: 'pods', namespace: 'shop' })
    assert.equal(kube.requests().at(-1)?.status, 200)
    assert.equal(describes(), before + 1)
  })

  test('write verbs work only when granted: scale, rollout-restart, delete-pod', async () => {
    const writes: Partial<KubectlConstraints> = { verbs: ['get', 'scale', 'rollout-restart', 'delete-pod'], resources: ['pods', 'deployments'], namespaces: ['shop'] }
    const scaled = await call({ verb: 'scale', resource: 'deployments', namespace: 'shop', name: 'checkout', replicas: 3 }, writes)
    assert.equal(scaled.structured?.['replicas'], 3)
    assert.equal(kube.requests().at(-1)?.path, '/apis/apps/v1/namespaces/shop/deployments/checkout/scale')
    const restarted = await call({ verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'payments' }, writes)
    assert.match(restarted.text, /deployment\.apps\/payments restarted/)
    const after = await call({ verb: 'get', resource: 'deployments', namespace: 'shop', name: 'payments' }, writes)
    assert.equal(z.object({ restartedAt: z.string() }).parse(after.structured?.['object']).restartedAt, restarted.structured?.['restartedAt'])
    await call({ verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: 'checkout-7d9f8b6c5d-m2p9z' }, writes)
    await assert.rejects(call({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'checkout-7d9f8b6c5d-m2p9z' }, writes), (e) => e instanceof UpstreamError && e.code === 'K8S_NOT_FOUND')
    // The cluster's own RBAC still applies: scaling in monitoring is refused by the cluster.
    await assert.rejects(call({ verb: 'scale', resource: 'deployments', namespace: 'monitoring', name: 'prometheus', replicas: 2 }, { ...writes, namespaces: ['monitoring'] }), (e) => e instanceof UpstreamError && e.code === 'K8S_FORBIDDEN')
  })

  test('annotations follow the grant', () => {
    const read = grantSchema.parse({ id: 'r', groups: ['g'], tools: ['kubectl'], kubectl: READ })
    assert.deepEqual([kubectl.annotations(read).readOnlyHint, kubectl.annotations(read).destructiveHint], [true, false])
    const restart = grantSchema.parse({ id: 'w', groups: ['g'], tools: ['kubectl'], kubectl: { ...READ, verbs: ['rollout-restart'] } })
    assert.deepEqual([kubectl.annotations(restart).readOnlyHint, kubectl.annotations(restart).destructiveHint], [false, false])
    const del = grantSchema.parse({ id: 'd', groups: ['g'], tools: ['kubectl'], kubectl: { ...READ, verbs: ['delete-pod'] } })
    assert.equal(kubectl.annotations(del).destructiveHint, true)
  })
})

describe('checkKubeAccess (the grant, before any call)', () => {
  const grant = (over: Partial<KubectlConstraints> = {}): KubectlConstraints => ({
    verbs: ['get', 'list', 'logs'], resources: ['pods', 'deployments', 'namespaces'], namespaces: ['shop', 'team-*'],
    logs: { maxLines: 500, maxBytes: 65_536, maxSinceSeconds: 86_400 }, revealSecretValues: false, ...over,
  })
  const allowed: Array<[string, KubectlArgs, KubectlConstraints]> = [
    ['list pods in shop', { verb: 'list', resource: 'pods', namespace: 'shop' }, grant()],
    ['get a deployment in a glob namespace', { verb: 'get', resource: 'deployments', namespace: 'team-a', name: 'api' }, grant()],
    ['logs of a pod', { verb: 'logs', resource: 'pods', namespace: 'shop', name: 'p', tailLines: 10 }, grant()],
    ['get a granted namespace object', { verb: 'get', resource: 'namespaces', name: 'team-b' }, grant()],
    ['nodes with "*"', { verb: 'list', resource: 'nodes' }, grant({ resources: ['nodes'], namespaces: ['*'] })],
    ['secrets when listed', { verb: 'get', resource: 'secrets', namespace: 'shop', name: 's' }, grant({ resources: ['secrets'] })],
    ['a restart of a named object', { verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'payments' }, grant({ verbs: ['rollout-restart'], names: ['payments'] })],
    ['reads of any object when names are set', { verb: 'get', resource: 'deployments', namespace: 'shop', name: 'checkout' }, grant({ names: ['payments'] })],
  ]
  for (const [name, args, constraints] of allowed) {
    test(`allows ${name}`, () => assert.doesNotThrow(() => checkKubeAccess(constraints, args)))
  }
  const refused: Array<[string, KubectlArgs, KubectlConstraints]> = [
    ['a verb not granted', { verb: 'describe', resource: 'pods', namespace: 'shop', name: 'p' }, grant()],
    ['scale without the verb', { verb: 'scale', resource: 'deployments', namespace: 'shop', name: 'd', replicas: 1 }, grant()],
    ['rollout-restart without the verb', { verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'd' }, grant()],
    ['delete-pod without the verb', { verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: 'p' }, grant()],
    ['secrets not listed', { verb: 'list', resource: 'secrets', namespace: 'shop' }, grant()],
    ['secrets not listed even with revealSecretValues', { verb: 'list', resource: 'secrets', namespace: 'shop' }, grant({ revealSecretValues: true })],
    ['a namespace not granted', { verb: 'list', resource: 'pods', namespace: 'kube-system' }, grant()],
    ['a namespace the glob does not cover', { verb: 'list', resource: 'pods', namespace: 'team' }, grant()],
    ['a namespace with a glob prefix only', { verb: 'list', resource: 'pods', namespace: 'xteam-a' }, grant()],
    ['nodes without "*"', { verb: 'list', resource: 'nodes' }, grant({ resources: ['nodes'] })],
    ['a namespace object not granted', { verb: 'get', resource: 'namespaces', name: 'kube-system' }, grant()],
    ['a restart of another object than named', { verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'checkout' }, grant({ verbs: ['rollout-restart'], names: ['payments'] })],
    ['a scale of another object than named', { verb: 'scale', resource: 'deployments', namespace: 'shop', name: 'checkout', replicas: 2 }, grant({ verbs: ['scale'], names: ['payments'] })],
  ]
  for (const [name, args, constraints] of refused) {
    test(`refuses ${name}`, () => assert.throws(() => checkKubeAccess(constraints, args), (e) => e instanceof GuardError && e.code === 'K8S_NOT_ALLOWED'))
  }
  test('a namespace list is filtered to the grant\'s globs', () => {
    const plan = checkKubeAccess(grant(), { verb: 'list', resource: 'namespaces' })
    assert.deepEqual(['shop', 'team-x', 'kube-system', 'default'].filter((n) => plan.namespaceFilter?.(n) ?? true), ['shop', 'team-x'])
    assert.equal(checkKubeAccess(grant({ namespaces: ['*'] }), { verb: 'list', resource: 'namespaces' }).namespaceFilter, undefined)
  })
  test('glob metacharacters other than * and ? are literal', () => {
    assert.equal(namespaceMatcher(['a.b'])('axb'), false)
    assert.equal(namespaceMatcher(['team-?'])('team-a'), true)
    assert.equal(namespaceMatcher(['team-?'])('team-ab'), false)
  })
})
