import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:https'
import type { Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { systemClock } from '../../src/clock.js'
import type { KubectlConstraints } from '../../src/policy/kubectl-constraints.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { createKubeCertificates } from '../../src/sandbox/kube-api/kube-certificates.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../../src/sandbox/trail.js'
import type { ToolDeps } from '../../tools/define-tool.js'
import kubectl from '../../tools/kubectl.js'
import { HANG, startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'
import { GATEWAY } from '../sandbox/kube-api/kube-harness.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import { timedFailure as failure } from '../support/timed-failure.js'

const REQUEST_MS = 500
const WRITES: Partial<KubectlConstraints> = { verbs: ['list', 'scale'], resources: ['pods', 'deployments'], namespaces: ['shop'] }
const inputSchema = z.object(kubectl.input)

describe('kubectl against a cluster that never answers', () => {
  let hung: Server
  const sockets = new Set<Socket>()
  let eks: EksEmulator
  let proxy: FaultProxy
  let deps: ToolDeps

  before(async () => {
    const certificates = await createKubeCertificates(systemClock, 'hung')
    // Accepts TLS and the request, then never answers.
    hung = createServer({ cert: certificates.certPem, key: certificates.keyPem }, () => undefined)
    hung.on('secureConnection', (socket) => sockets.add(socket))
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
    const address = hung.address()
    if (address === null || typeof address === 'string') throw new TypeError('no address')
    const store = createCredentialStore([GATEWAY])
    eks = await startEksEmulator({
      store,
      trail: createTrail(systemClock),
      clock: systemClock,
      clusters: [{ name: 'hung', region: 'us-east-1', endpoint: `https://127.0.0.1:${address.port}`, caPem: certificates.caPem }],
    })
    proxy = await startFaultProxy(eks.endpoint)
    const aws = createAwsClients({
      credentials: async () => ({ accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }),
      endpoints: { eks: proxy.url },
      timeouts: { connectMs: 500, requestMs: REQUEST_MS },
    })
    deps = createToolDeps({ aws, clock: systemClock })
    // The first call loads client-node (seconds on a busy machine); the timings below are of calls after it.
    await call({ verb: 'list', resource: 'pods', namespace: 'shop' }).catch(() => undefined)
  })
  after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => hung.close(() => resolve()))
    await proxy.close()
    await eks.close()
  })

  function call(input: z.input<typeof inputSchema>, signal = new AbortController().signal) {
    const grant = resolveGrant(grantSchema.parse({ id: 'k8s', groups: ['sre'], connections: ['hung'], tools: ['kubectl'], kubectl: WRITES }))
    return kubectl.handler({
      principal: { issuer: 'https://idp.example', subject: 'alice', groups: ['sre'], expiresAt: 4_000_000_000 },
      grant,
      connection: { id: 'hung', kind: 'eks', region: 'us-east-1', cluster: 'hung' },
      args: inputSchema.parse(input),
      deps,
      signal,
      progress: async () => {},
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused-by-this-tool' },
    })
  }

  it('a read gives up at the request timeout: AWS_TIMEOUT', { timeout: 20_000 }, async () => {
    const { code, ms } = await failure(call({ verb: 'list', resource: 'pods', namespace: 'shop' }))
    assert.equal(code, 'AWS_TIMEOUT')
    assert.ok(ms < REQUEST_MS + 1500, `answered after ${Math.round(ms)} ms`)
  })

  it('a write given up on is reported as possibly applied', { timeout: 20_000 }, async () => {
    const { code, ms } = await failure(call({ verb: 'scale', resource: 'deployments', namespace: 'shop', name: 'checkout', replicas: 2 }))
    assert.equal(code, 'AWS_OUTCOME_UNKNOWN')
    assert.ok(ms < REQUEST_MS + 1500, `answered after ${Math.round(ms)} ms`)
  })

  it('a cancelled read answers at once', { timeout: 20_000 }, async () => {
    const controller = new AbortController()
    const running = failure(call({ verb: 'list', resource: 'pods', namespace: 'shop' }, controller.signal))
    setTimeout(() => controller.abort(), 100)
    const { code, ms } = await running
    assert.equal(code, 'CANCELLED')
    assert.ok(ms < 400, `answered after ${Math.round(ms)} ms`)
  })

  it('a hung DescribeCluster gives up at the request timeout', { timeout: 20_000 }, async () => {
    const other = createAwsClients({
      credentials: async () => ({ accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }),
      endpoints: { eks: proxy.url },
      timeouts: { connectMs: 500, requestMs: REQUEST_MS },
    })
    proxy.fault('/clusters/hung', HANG)
    const started = performance.now()
    const { code } = await failure(kubectl.handler({
      principal: { issuer: 'https://idp.example', subject: 'alice', groups: ['sre'], expiresAt: 4_000_000_000 },
      grant: resolveGrant(grantSchema.parse({ id: 'k8s', groups: ['sre'], connections: ['hung'], tools: ['kubectl'], kubectl: WRITES })),
      connection: { id: 'hung', kind: 'eks', region: 'us-east-1', cluster: 'hung' },
      args: inputSchema.parse({ verb: 'list', resource: 'pods', namespace: 'shop' }),
      deps: createToolDeps({ aws: other, clock: systemClock }),
      signal: new AbortController().signal,
      progress: async () => {},
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused-by-this-tool' },
    }))
    proxy.clear()
    assert.match(code, /^AWS_/)
    assert.ok(performance.now() - started < REQUEST_MS + 1500, `answered after ${Math.round(performance.now() - started)} ms`)
  })
})
