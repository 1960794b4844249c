import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { z } from 'zod'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { createManualClock, systemClock } from '../../src/clock.js'
import { GuardError, InputError, UpstreamError } from '../../src/errors.js'
import { callerError } from '../../src/mcp/tool-error-text.js'
import { createToolCatalog } from '../../src/mcp/tool-catalog.js'
import type { KubectlConstraints } from '../../src/policy/kubectl-constraints.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer, type KubeApiServer } from '../../src/sandbox/kube-api/kube-api-server.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { ToolDeps, ToolResult } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import kubectl from '../../tools/kubectl.js'
import { checkKubeAccess, type KubectlArgs } from '../../tools/kubectl/check-kube-access.js'
import { kubectlOutput } from '../../tools/kubectl/kubectl-output.js'
import { eks, policyOf } from '../policy/policy-fixture.js'
import { GATEWAY, GATEWAY_MAPPING } from '../sandbox/kube-api/kube-harness.js'

type KubectlInput = z.input<z.ZodObject<typeof kubectl.input>>
const inputSchema = z.object(kubectl.input)
// Every field a result carries is declared: a strict object of the declared shape must accept it.
const outputSchema = z.strictObject(kubectlOutput)
const PAYMENTS_POD = 'payments-5c8d7f9b4-x2k9p'
const ALL: Partial<KubectlConstraints> = {
  verbs: ['get', 'list', 'describe', 'logs', 'events', 'scale', 'rollout-restart', 'delete-pod'],
  resources: ['pods', 'deployments', 'events'],
  namespaces: ['shop'],
}

describe('kubectl as an agent sees it: enums from the grants, an output schema, previous logs', () => {
  let kube: KubeApiServer
  let eksEmulator: EksEmulator
  let deps: ToolDeps

  before(async () => {
    const clock = createManualClock(systemClock.now())
    const store = createCredentialStore([GATEWAY])
    kube = await startKubeApiServer({ store, clock, clusterName: 'demo', region: 'us-east-1', mappings: [GATEWAY_MAPPING] })
    eksEmulator = await startEksEmulator({ store, trail: createTrail(clock), clock: systemClock, clusters: [{ name: 'demo', region: 'us-east-1', endpoint: kube.url, caPem: kube.caPem }] })
    const aws = createAwsClients({ credentials: async () => ({ accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }), endpoints: { eks: eksEmulator.endpoint }, maxAttempts: 1 })
    deps = createToolDeps({ aws, clock })
  })
  after(async () => {
    await eksEmulator.close()
    await kube.close()
  })

  function call(input: KubectlInput, constraints: Partial<KubectlConstraints> = ALL): Promise<ToolResult> {
    const grant = resolveGrant(grantSchema.parse({ id: 'k8s', groups: ['sre'], connections: ['demo'], tools: ['kubectl'], kubectl: constraints }))
    return kubectl.handler({
      principal: { issuer: 'https://idp.example', subject: 'bob', groups: ['sre'], expiresAt: 4_000_000_000 },
      grant,
      connection: { id: 'demo', kind: 'eks', region: 'us-east-1', cluster: 'demo' },
      args: inputSchema.parse(input),
      deps,
      signal: new AbortController().signal,
      progress: async () => {},
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused' },
    })
  }

  test('logs: previous reads the crashed container, with container and a line limit', async () => {
    const current = await call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD, container: 'payments' })
    const previous = await call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD, container: 'payments', previous: true, tailLines: 2 })
    assert.match(previous.text, /^logs of pod shop\/payments-5c8d7f9b4-x2k9p container payments \(previous, terminated container\): 2 line\(s\)/)
    assert.match(String(previous.structured?.['log']), /FATAL could not initialise the ledger store: pq: password authentication failed/)
    assert.equal(previous.structured?.['previous'], true)
    assert.equal(previous.structured?.['lines'], 2)
    assert.notEqual(previous.structured?.['log'], current.structured?.['log'], 'a different run of the container')
    assert.equal(current.structured?.['previous'], false)
    assert.match(kube.requests().at(-1)?.path ?? '', /\/pods\/payments-5c8d7f9b4-x2k9p\/log$/)
    // A healthy container has no previous run: the cluster says so.
    await assert.rejects(call({ verb: 'logs', resource: 'pods', namespace: 'shop', name: 'checkout-7d9f8b6c5d-h4x7q', previous: true }), (e) => e instanceof UpstreamError && e.code === 'K8S_ERROR' && /previous terminated container/.test(e.publicDetail ?? ''))
    assert.throws(() => inputSchema.parse({ verb: 'logs', resource: 'pods', tailLines: 10_001 }), 'tailLines is capped in the schema')
  })

  test('every verb returns structured content of the declared output schema', async () => {
    const calls: KubectlInput[] = [
      { verb: 'list', resource: 'pods', namespace: 'shop' },
      { verb: 'get', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD },
      { verb: 'describe', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD },
      { verb: 'describe', resource: 'deployments', namespace: 'shop', name: 'checkout' },
      { verb: 'events', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD },
      { verb: 'logs', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD, previous: true },
      { verb: 'scale', resource: 'deployments', namespace: 'shop', name: 'checkout', replicas: 2 },
      { verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'checkout' },
      { verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: 'checkout-7d9f8b6c5d-m2p9z' },
    ]
    for (const input of calls) {
      const result = await call(input)
      const parsed = outputSchema.safeParse(JSON.parse(JSON.stringify(result.structured)))
      assert.ok(parsed.success, `${input.verb} ${input.resource}: ${parsed.success ? '' : parsed.error.message}`)
    }
  })

  test('tools/list shows only the verbs and resources the caller\'s usable grants allow', () => {
    const policy = policyOf({
      version: 1,
      connections: { cluster: eks, other: eks },
      grants: [
        { id: 'read', groups: ['sre'], connections: ['cluster'], tools: ['kubectl'], kubectl: { verbs: ['list', 'logs'], resources: ['pods'], namespaces: ['shop'] } },
        { id: 'events', groups: ['sre'], connections: ['other'], tools: ['kubectl'], kubectl: { verbs: ['events', 'list'], resources: ['events', 'deployments'], namespaces: ['shop'] } },
        { id: 'restart', groups: ['sre'], connections: ['cluster'], tools: ['kubectl'], approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] } },
        { id: 'ops', groups: ['ops'], connections: ['cluster'], tools: ['kubectl'], kubectl: { verbs: ['delete-pod'], resources: ['secrets'], namespaces: ['*'] } },
      ],
    })
    const catalog = createToolCatalog(registeredTools)
    const listed = catalog.list(policy, { issuer: 'https://idp', subject: 'bob', groups: ['sre'], expiresAt: 4_000_000_000 }, Date.parse('2026-11-29T12:00:00Z'))
    const tool = listed.find((t) => t.name === 'kubectl')
    const properties = tool?.inputSchema.properties as Record<string, { enum?: string[]; description?: string }>
    assert.deepEqual(properties.verb?.enum, ['list', 'logs', 'events', 'rollout-restart'], 'union of usable and approval grants, tool order (an approval grant\'s call can be asked for); ops\' delete-pod is not bob\'s')
    assert.deepEqual(properties.resource?.enum, ['pods', 'deployments', 'events'], 'no secrets: only the ops grant names them')
    assert.ok('approvalReason' in properties, 'the approval grant adds the reason for the approver')
    assert.match(properties.verb?.description ?? '', /only the verbs your grants allow/)
    assert.deepEqual(properties.connection?.enum, ['cluster', 'other'])
    assert.equal(tool?.outputSchema?.type, 'object')
    assert.ok(tool?.outputSchema !== undefined && 'previous' in (tool.outputSchema.properties as object), 'the output schema names logs\' previous flag')
    assert.ok('previous' in properties, 'logs takes previous')
  })

  test('a refusal names the call that would work', () => {
    const grant = { verbs: ['get', 'list', 'logs'], resources: ['pods', 'deployments'], namespaces: ['shop', 'monitoring'], logs: { maxLines: 500, maxBytes: 65_536, maxSinceSeconds: 86_400 }, revealSecretValues: false } as const satisfies KubectlConstraints
    const said = (args: KubectlArgs) => {
      try {
        checkKubeAccess(grant, args)
      } catch (error) {
        assert.ok(error instanceof InputError || error instanceof GuardError, 'a coded refusal')
        return callerError(error).text
      }
      return assert.fail('not refused')
    }
    assert.equal(said({ verb: 'get', resource: 'pods', namespace: 'shop' }), 'The tool arguments are invalid. "get" needs "name"; use verb "list" on resource "pods" in namespace "shop" to find names')
    assert.match(said({ verb: 'logs', resource: 'pods', namespace: 'shop' }), /"logs" needs "name"; use verb "list" on resource "pods" in namespace "shop" to find names$/)
    assert.match(said({ verb: 'list', resource: 'pods' }), /"namespace" is required for pods; your grant allows: shop, monitoring$/)
    assert.match(said({ verb: 'describe', resource: 'pods', namespace: 'shop', name: 'p' }), /verb "describe" is not in your grant; use one of: get, list, logs$/)
    assert.match(said({ verb: 'list', resource: 'pods', namespace: 'kube-system' }), /namespace "kube-system" is not in your grant; use one of: shop, monitoring$/)
    assert.match(said({ verb: 'logs', resource: 'deployments', namespace: 'shop', name: 'checkout' }), /use resource "pods" \(list pods with a labelSelector such as "app=<name>"/)
    assert.match(said({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'p', previous: true }), /only for logs; use verb "logs" on resource "pods"$/)
    assert.match(said({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'p', labelSelector: 'app=x' }), /use verb "list" with the selector to find pods$/)
  })
})
