import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import { z } from 'zod'
import { loadGatewayConfig } from '../../src/cli/load-config.js'
import { ConfigError } from '../../src/errors.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const CHART = join(ROOT, 'deploy', 'helm', 'airlock')
const text = (...path: string[]) => readFileSync(join(...path), 'utf8')

const values = z
  .looseObject({
    image: z.object({ repository: z.string(), tag: z.string() }),
    config: z.looseObject({ issuer: z.string(), listen: z.looseObject({ port: z.number() }), policy: z.array(z.string()), audit: z.looseObject({ path: z.string() }) }),
    terminationGracePeriodSeconds: z.number(),
  })
  .parse(parse(text(CHART, 'values.yaml')))
const chart = z.looseObject({ appVersion: z.string() }).parse(parse(text(CHART, 'Chart.yaml')))
const configmap = text(CHART, 'templates', 'configmap.yaml')
const deployment = text(CHART, 'templates', 'deployment.yaml')

describe('the Helm chart renders a config the gateway accepts', () => {
  let dir: string
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'airlock-helm-'))))
  after(() => rm(dir, { recursive: true, force: true }))

  // The configmap is `toPrettyJson .Values.config`; the JSON round trip is what Helm writes.
  async function load(config: unknown) {
    const file = join(dir, 'airlock.json')
    await writeFile(file, JSON.stringify(config, null, 2))
    return loadGatewayConfig(file, {}, dir)
  }

  it('renders values.config as airlock.json unchanged, and requires the issuer', () => {
    assert.match(configmap, /airlock\.json: \|\n\s+\{\{- toPrettyJson \.Values\.config \| nindent 4 \}\}/)
    assert.equal(configmap.match(/\.Values\.config\b/g)?.length, 2, 'the template reads values.config only to require the issuer and to render it')
    assert.match(configmap, /required "[^"]+" \.Values\.config\.issuer/)
    assert.equal(values.config.issuer, '', 'no issuer is guessed for the operator')
  })

  it('passes the real config loader once the issuer is set', async () => {
    const config = await load({ ...values.config, issuer: 'https://idp.example.com/oauth2/default' })
    assert.equal(config.listen.host, '0.0.0.0')
    assert.ok(config.audit.sink === 'file', 'the chart renders a file audit sink by default')
    assert.equal(config.audit.durability, 'fsync')
  })

  it('would be refused for a key the gateway does not have', async () => {
    await assert.rejects(load({ ...values.config, issuer: 'https://idp.example.com', audit: { ...values.config.audit, existingClaim: 'x' } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, 'expected: error instanceof ConfigError')
      assert.match(error.message, /audit/)
      return true
    })
  })

  it('points policy, audit and the port at what the pod mounts and exposes', () => {
    assert.match(deployment, /args: \["serve", "--config", "\/etc\/airlock\/airlock\.json"\]/)
    assert.match(deployment, /mountPath: \/etc\/airlock\/airlock\.json, subPath: airlock\.json/)
    for (const policy of values.config.policy) assert.match(deployment, new RegExp(`name: policies, mountPath: ${policy},`))
    assert.match(deployment, new RegExp(`name: audit, mountPath: ${dirname(values.config.audit.path)} `))
    assert.match(deployment, /containerPort: \{\{ \.Values\.config\.listen\.port \}\}/)
  })

  it('runs the image the Dockerfile builds, as its non-root user, on a read-only root filesystem', () => {
    const dockerfile = text(ROOT, 'Dockerfile')
    assert.equal(values.image.repository, 'airlock')
    assert.match(deployment, /image: "\{\{ \.Values\.image\.repository \}\}:\{\{ \.Values\.image\.tag \| default \.Chart\.AppVersion \}\}"/)
    const pkg = z.object({ version: z.string() }).parse(JSON.parse(text(ROOT, 'package.json')))
    assert.equal(chart.appVersion, pkg.version)
    assert.match(dockerfile, /useradd [^\n]*--uid 10001 /)
    assert.match(dockerfile, /^USER 10001:10001$/m)
    assert.match(deployment, /runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001/)
    assert.match(deployment, /readOnlyRootFilesystem: true/)
    assert.match(deployment, /terminationGracePeriodSeconds: \{\{ \.Values\.terminationGracePeriodSeconds \}\}/)
    assert.ok(values.terminationGracePeriodSeconds >= 30, 'expected: values.terminationGracePeriodSeconds >= 30')
  })
})
