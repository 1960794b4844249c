import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startKubeHarness, type KubeHarness } from './kube-harness.js'
import { createTeardown } from '../../support/teardown.js'

const probe = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' })
const skip = probe.error !== undefined || probe.status !== 0
  ? 'kubectl is not installed (CI: apt-get install -y kubernetes-client)'
  : false

describe('the stand-in against the real kubectl', { skip }, () => {
  let h: KubeHarness
  let dir: string
  let kubeconfig: string
  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: dir } }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
      })
    })

  const teardown = createTeardown()
  before(async () => {
    h = await startKubeHarness()
    teardown.add(() => h.server.close())
    dir = mkdtempSync(join(tmpdir(), 'kubectl-fidelity-'))
    teardown.add(() => rmSync(dir, { recursive: true, force: true }))
    kubeconfig = join(dir, 'config')
    // The stand-in's clock is fixed; a token signed "now" by the same clock is current for it.
    const token = await h.token()
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'demo',
      clusters: [{ name: 'demo', cluster: { server: h.server.url, 'certificate-authority-data': Buffer.from(h.server.caPem).toString('base64') } }],
      users: [{ name: 'airlock', user: { token } }],
      contexts: [{ name: 'demo', context: { cluster: 'demo', user: 'airlock' } }],
    }))
  })
  after(() => teardown.run())

  test('kubectl get pods -n shop -o json matches the fixture', async () => {
    const res = await kubectl(['get', 'pods', '-n', 'shop', '-o', 'json'])
    assert.equal(res.code, 0, res.stderr)
    const list = JSON.parse(res.stdout)
    assert.equal(list.kind, 'List')
    const names = list.items.map((p: { metadata: { name: string } }) => p.metadata.name)
    assert.deepEqual(names, ['checkout-7d9f8b6c5d-h4x7q', 'checkout-7d9f8b6c5d-m2p9z', 'payments-5c8d7f9b4-x2k9p'])
    assert.equal(list.items[0].kind, 'Pod')
    assert.equal(list.items[2].status.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff')
  })

  test('kubectl logs returns the fixture log, and --tail limits it', async () => {
    const res = await kubectl(['logs', 'payments-5c8d7f9b4-x2k9p', '-n', 'shop'])
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /FATAL could not initialise the ledger store/)
    const tail = await kubectl(['logs', 'payments-5c8d7f9b4-x2k9p', '-n', 'shop', '--tail', '1'])
    assert.equal(tail.stdout.trim().split('\n').length, 1)
  })

  test('kubectl shows the RBAC refusal as the API server words it', async () => {
    const res = await kubectl(['get', 'secrets', '-n', 'kube-system'])
    assert.notEqual(res.code, 0)
    assert.match(res.stderr, /secrets is forbidden: User "airlock-gateway" cannot list resource "secrets" in API group "" in the namespace "kube-system"/)
  })
  test('kubectl scale, rollout restart and delete pod --wait=false work against the stand-in', async () => {
    const scale = await kubectl(['scale', 'deployment', 'checkout', '-n', 'shop', '--replicas=3'])
    assert.equal(scale.code, 0, scale.stderr)
    const scaled = JSON.parse((await kubectl(['get', 'deployment', 'checkout', '-n', 'shop', '-o', 'json'])).stdout)
    assert.equal(scaled.spec.replicas, 3)
    const restart = await kubectl(['rollout', 'restart', 'deployment/payments', '-n', 'shop'])
    assert.equal(restart.code, 0, restart.stderr)
    const restarted = JSON.parse((await kubectl(['get', 'deployment', 'payments', '-n', 'shop', '-o', 'json'])).stdout)
    assert.ok(restarted.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], "restarted.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']")
    const del = await kubectl(['delete', 'pod', 'checkout-7d9f8b6c5d-m2p9z', '-n', 'shop', '--wait=false'])
    assert.equal(del.code, 0, del.stderr)
    const gone = await kubectl(['get', 'pod', 'checkout-7d9f8b6c5d-m2p9z', '-n', 'shop'])
    assert.match(gone.stderr, /pods "checkout-7d9f8b6c5d-m2p9z" not found/)
  })
})
