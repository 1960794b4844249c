import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import { z } from 'zod'
import { ENV_OVERRIDES, loadGatewayConfig } from '../../src/cli/load-config.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { ConfigError } from '../../src/errors.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const CHART = join(ROOT, 'deploy', 'helm', 'airlock')
const text = (...path: string[]) => readFileSync(join(...path), 'utf8')

const backing = z.object({ enabled: z.boolean(), existingSecret: z.string(), secretKey: z.string(), port: z.number() })
const valuesSchema = z.looseObject({
  image: z.object({ repository: z.string(), tag: z.string() }),
  replicaCount: z.number(),
  config: z.looseObject({
    issuer: z.string(),
    listen: z.looseObject({ port: z.number() }),
    admin: z.looseObject({ host: z.string(), port: z.number() }),
    policy: z.array(z.string()),
    audit: z.looseObject({ path: z.string() }),
  }),
  redis: backing.extend({ keyPrefix: z.string() }),
  postgres: backing,
  podDisruptionBudget: z.object({ enabled: z.boolean(), minAvailable: z.number() }),
  serviceMonitor: z.object({ enabled: z.boolean(), interval: z.string(), labels: z.record(z.string(), z.string()) }),
  terminationGracePeriodSeconds: z.number(),
})
type Values = z.infer<typeof valuesSchema>
const values = valuesSchema.parse(parse(text(CHART, 'values.yaml')))
const chart = z.looseObject({ appVersion: z.string() }).parse(parse(text(CHART, 'Chart.yaml')))
const configmap = text(CHART, 'templates', 'configmap.yaml')
const deployment = text(CHART, 'templates', 'deployment.yaml')
const template = (name: string) => text(CHART, 'templates', name)

/**
 * What configmap.yaml renders as airlock.json (checked against the template text below): values.config,
 * plus `state: { kind: redis, keyPrefix? }` with redis enabled, and with postgres enabled the audit
 * section as `{ sink: postgres, ...the rest but path and durability }`. URLs are not in it.
 */
function renderedConfig(v: Values): Record<string, unknown> {
  const config: Record<string, unknown> = structuredClone(v.config)
  if (v.redis.enabled) config.state = { kind: 'redis', ...(v.redis.keyPrefix === '' ? {} : { keyPrefix: v.redis.keyPrefix }) }
  if (v.postgres.enabled) {
    const { path: _path, durability: _durability, ...rest } = v.config.audit
    config.audit = { ...rest, sink: 'postgres' }
  }
  return config
}

/** The environment the deployment gives the gateway from Secrets (values are the Secrets' contents). */
function secretEnv(v: Values): Record<string, string> {
  return {
    ...(v.redis.enabled ? { AIRLOCK_STATE_URL: 'rediss://:secret-pw@redis.example:6379/0' } : {}),
    ...(v.postgres.enabled ? { AIRLOCK_AUDIT_URL: 'postgres://airlock:secret-pw@db.example:5432/audit' } : {}),
  }
}

const withIssuer = (v: Values): Values => ({ ...v, config: { ...v.config, issuer: 'https://idp.example.com/oauth2/default' } })
// Keys other work adds to the gateway's config: the chart renders them only when they are switched on.
const hasStateStore = Object.hasOwn(gatewayConfigSchema.shape, 'state')
const hasPostgresAudit = gatewayConfigSchema.shape.audit.safeParse({ sink: 'postgres', url: 'postgres://airlock@db.example/audit' }).success

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

  it('renders values.config as airlock.json, with only the state store and audit sink added, and requires the issuer', () => {
    assert.match(configmap, /\$config := deepCopy \.Values\.config \}\}/)
    assert.match(configmap, /airlock\.json: \|\n\s+\{\{- toPrettyJson \$config \| nindent 4 \}\}/)
    assert.equal(configmap.match(/\.Values\.config\b/g)?.length, 2, 'the template reads values.config only to require the issuer and to copy it')
    // The only changes to the copy, as renderedConfig() models them.
    assert.deepEqual(configmap.match(/set \$config "[a-z]+"/g), ['set $config "state"', 'set $config "audit"'])
    assert.match(configmap, /if \.Values\.redis\.enabled \}\}[\s\S]*\$state := dict "kind" "redis"[\s\S]*set \$state "keyPrefix" \.Values\.redis\.keyPrefix/)
    assert.match(configmap, /if \.Values\.postgres\.enabled \}\}[\s\S]*set \$config "audit" \(merge \(dict "sink" "postgres"\) \(omit \$config\.audit "path" "durability"\)\)/)
    assert.doesNotMatch(configmap, /secretKey|\burl\b/, 'no connection URL is rendered into the ConfigMap')
    assert.match(configmap, /required "[^"]+" \.Values\.config\.issuer/)
    assert.equal(values.config.issuer, '', 'no issuer is guessed for the operator')
  })

  it('passes the real config loader once the issuer is set', async () => {
    assert.equal(values.redis.enabled || values.postgres.enabled, false, 'file audit and in-memory state unless switched on')
    const config = await load(renderedConfig(withIssuer(values)))
    assert.equal(config.listen.host, '0.0.0.0')
    assert.ok(config.audit.sink === 'file', 'the chart renders a file audit sink by default')
    assert.equal(config.audit.durability, 'fsync')
    assert.deepEqual(config.admin, { enabled: true, host: '0.0.0.0', port: values.config.admin.port })
  })

  it('passes the secrets as the environment variables the loader maps to state.url and audit.url', () => {
    assert.equal(ENV_OVERRIDES.AIRLOCK_STATE_URL, 'state.url')
    assert.equal(ENV_OVERRIDES.AIRLOCK_AUDIT_URL, 'audit.url')
    assert.match(deployment, /if \.Values\.redis\.enabled \}\}\n\s+- name: AIRLOCK_STATE_URL\n\s+valueFrom: \{ secretKeyRef: \{ name: \{\{ \.Values\.redis\.existingSecret \| quote \}\}, key: \{\{ \.Values\.redis\.secretKey \| quote \}\} \} \}/)
    assert.match(deployment, /if \.Values\.postgres\.enabled \}\}\n\s+- name: AIRLOCK_AUDIT_URL\n\s+valueFrom: \{ secretKeyRef: \{ name: \{\{ \.Values\.postgres\.existingSecret \| quote \}\}, key: \{\{ \.Values\.postgres\.secretKey \| quote \}\} \} \}/)
    assert.match(configmap, /required "[^"]+" \.Values\.redis\.existingSecret/)
    assert.match(configmap, /required "[^"]+" \.Values\.postgres\.existingSecret/)
  })

  it('with Redis state switched on, renders a config the loader accepts', { skip: hasStateStore ? false : 'the state store is not in this config schema yet' }, async () => {
    const v = withIssuer({ ...values, redis: { ...values.redis, enabled: true, existingSecret: 'airlock-redis', keyPrefix: 'airlock:prod:' } })
    const file = join(dir, 'airlock-redis.json')
    await writeFile(file, JSON.stringify(renderedConfig(v), null, 2))
    const config = z.looseObject({ state: z.looseObject({ kind: z.literal('redis'), url: z.string() }) }).parse(await loadGatewayConfig(file, secretEnv(v), dir))
    assert.equal(config.state.url, secretEnv(v).AIRLOCK_STATE_URL)
  })

  it('with the PostgreSQL audit switched on, renders a config the loader accepts', { skip: hasPostgresAudit ? false : 'the PostgreSQL audit sink is not in this config schema yet' }, async () => {
    const v = withIssuer({ ...values, postgres: { ...values.postgres, enabled: true, existingSecret: 'airlock-audit-db' } })
    const file = join(dir, 'airlock-postgres.json')
    await writeFile(file, JSON.stringify(renderedConfig(v), null, 2))
    const config = z.looseObject({ audit: z.looseObject({ sink: z.literal('postgres'), url: z.string() }) }).parse(await loadGatewayConfig(file, secretEnv(v), dir))
    assert.equal(config.audit.url, secretEnv(v).AIRLOCK_AUDIT_URL)
  })

  it('refuses a Secret-held URL the schema has no key for, naming the variable, never its value', { skip: hasStateStore ? 'the schema has the state store' : false }, async () => {
    await writeFile(join(dir, 'airlock.json'), JSON.stringify(renderedConfig(withIssuer(values))))
    await assert.rejects(loadGatewayConfig('airlock.json', { AIRLOCK_STATE_URL: 'rediss://:secret-pw@redis.example:6379/0' }, dir), (error: unknown) => {
      assert.ok(error instanceof ConfigError, 'expected: error instanceof ConfigError')
      assert.equal(error.message, 'AIRLOCK_STATE_URL (environment): state.url: not a setting of this gateway')
      return true
    })
  })

  it('probes the admin listener, which the public Service never exposes', () => {
    assert.match(deployment, /- \{ name: admin, containerPort: \{\{ \.Values\.config\.admin\.port \}\} \}/)
    assert.match(deployment, /livenessProbe: \{ httpGet: \{ path: \/healthz, port: admin \}/)
    assert.match(deployment, /readinessProbe: \{ httpGet: \{ path: \/readyz, port: admin \}/)
    assert.match(deployment, /startupProbe: \{ httpGet: \{ path: \/healthz, port: admin \}/)
    assert.equal(values.config.admin.host, '0.0.0.0', 'the kubelet probes the pod address')
    assert.doesNotMatch(template('service.yaml'), /admin/)
    const policy = template('networkpolicy.yaml')
    assert.match(policy, /with \.Values\.networkPolicy\.metricsFrom \}\}\n\s+- from:[^\n]*\n\s+ports: \[\{ port: \{\{ \$\.Values\.config\.admin\.port \}\}/)
    assert.match(policy, /if \.Values\.redis\.enabled \}\}\n\s+- ports: \[\{ port: \{\{ \.Values\.redis\.port \}\}/)
    assert.match(policy, /if \.Values\.postgres\.enabled \}\}\n\s+- ports: \[\{ port: \{\{ \.Values\.postgres\.port \}\}/)
  })

  it('runs two replicas under a PodDisruptionBudget, spread over nodes, with an optional ServiceMonitor', () => {
    assert.equal(values.replicaCount, 2)
    assert.deepEqual(values.podDisruptionBudget, { enabled: true, minAvailable: 1 })
    const pdb = template('poddisruptionbudget.yaml')
    assert.match(pdb, /^\{\{- if \.Values\.podDisruptionBudget\.enabled \}\}\napiVersion: policy\/v1\nkind: PodDisruptionBudget/)
    assert.match(pdb, /minAvailable: \{\{ \.Values\.podDisruptionBudget\.minAvailable \}\}/)
    assert.match(pdb, /matchLabels: \{ app\.kubernetes\.io\/name: airlock, app\.kubernetes\.io\/instance: \{\{ \.Release\.Name \}\} \}/)
    assert.match(deployment, /topologyKey: kubernetes\.io\/hostname/)
    assert.equal(values.serviceMonitor.enabled, false, 'the CRD may not exist: opt in')
    const monitor = template('servicemonitor.yaml')
    assert.match(monitor, /^\{\{- if \.Values\.serviceMonitor\.enabled \}\}/)
    assert.match(monitor, /kind: ServiceMonitor[\s\S]*endpoints:\n\s+- \{ port: admin, path: \/metrics, interval: \{\{ \.Values\.serviceMonitor\.interval \}\} \}/)
    assert.match(monitor, /ports: \[\{ name: admin, port: \{\{ \.Values\.config\.admin\.port \}\}, targetPort: admin \}\]/)
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
