import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { scanAgentEnv } from '../../src/posture/scan-agent-env.js'
import { scanText } from '../../src/posture/scan-text.js'
import { maskSecret } from '../../src/posture/posture-check.js'

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'

describe('scanAgentEnv', () => {
  let home: string
  let project: string
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-home-'))
    project = join(home, 'project')
    await mkdir(project)
  })
  afterEach(() => rm(home, { recursive: true, force: true }))
  const plant = async (relative: string, text: string) => {
    await mkdir(dirname(join(home, relative)), { recursive: true })
    await writeFile(join(home, relative), text)
  }
  const scan = (env: Record<string, string> = {}, paths: string[] = []) => scanAgentEnv({ env: { HOME: home, PATH: '/usr/bin', ...env }, cwd: project, paths })

  it('passes a clean home with harmless config', async () => {
    await plant('.aws/config', '[default]\nregion = eu-west-1\noutput = json\n')
    await plant('.bashrc', 'export PATH=$HOME/bin:$PATH\n')
    await plant('project/.mcp.json', JSON.stringify({ mcpServers: { airlock: { type: 'http', url: 'https://airlock.example.com/mcp' } } }))
    const checks = await scan({ AWS_REGION: 'eu-west-1' })
    assert.deepEqual(checks.map((c) => c.status), ['PASS'])
    assert.equal(checks[0]?.summary, 'no AWS key material found (environment and 3 config file(s) checked)')
  })

  const PLANTED: Array<[file: string, text: string, kind: RegExp, where: string]> = [
    ['.aws/credentials', `[default]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n`, /access key id \(AKIA…MPLE\)/, '~/.aws/credentials:2'],
    ['.aws/config', '[profile ops]\ncredential_process = /usr/local/bin/get-creds\n', /credential_process/, '~/.aws/config:2'],
    ['.aws/config', '[profile sso]\nsso_start_url = https://example.awsapps.com/start\n', /SSO profile/, '~/.aws/config:2'],
    ['project/.env', `DB=x\nAWS_SECRET_ACCESS_KEY=${SECRET}\n`, /secret access key \(…EKEY\)/, '~/project/.env:2'],
    ['project/.mcp.json', JSON.stringify({ mcpServers: { aws: { command: 'aws-mcp', env: { AWS_ACCESS_KEY_ID: 'ASIAIOSFODNN7EXAMPLE' } } } }), /access key id \(ASIA…MPLE\)/, '~/project/.mcp.json:1'],
    ['.cursor/mcp.json', JSON.stringify({ mcpServers: { x: { env: { AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLETOKENabcd' } } } }), /session token/, '~/.cursor/mcp.json:1'],
    ['.config/Claude/claude_desktop_config.json', `{"env": {"AWS_ACCESS_KEY_ID": "${KEY_ID}"}}`, /access key id/, '~/.config/Claude/claude_desktop_config.json:1'],
    ['.zshrc', `export AWS_ACCESS_KEY_ID=${KEY_ID}\n`, /access key id/, '~/.zshrc:1'],
    ['.aws/sso/cache/abc.json', '{"accessToken":"x"}', /cached credential file/, '~/.aws/sso/cache'],
    ['.aws/cli/cache/role.json', '{}', /cached credential file/, '~/.aws/cli/cache'],
  ]
  for (const [file, text, kind, where] of PLANTED) {
    it(`fails on ${file} (${kind.source})`, async () => {
      await plant(file, text)
      const checks = await scan()
      const finding = checks.find((c) => c.status === 'FAIL' && kind.test(c.summary))
      assert.ok(finding, JSON.stringify(checks))
      assert.equal(finding.where, where)
      assert.ok(!checks.some((c) => c.status === 'PASS'), 'expected: !checks.some((c) => c.status === \'PASS\')')
      for (const c of checks) assert.ok(!c.summary.includes(SECRET) && !c.summary.includes(KEY_ID), 'values are masked')
    })
  }

  it('fails on credential environment variables, masked', async () => {
    const checks = await scan({ AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' })
    assert.deepEqual(
      checks.map((c) => c.summary),
      ['AWS_ACCESS_KEY_ID is set (AKIA…MPLE)', 'AWS_SECRET_ACCESS_KEY is set (…EKEY)', 'AWS_WEB_IDENTITY_TOKEN_FILE is set (…)'],
    )
  })

  it('finds key material hidden in other variables', async () => {
    const checks = await scan({ MY_TOOL_CONFIG: `key=${KEY_ID}` })
    assert.equal(checks[0]?.status, 'FAIL')
    assert.equal(checks[0]?.where, 'environment: MY_TOOL_CONFIG')
  })

  it('scans extra paths (files and directories) and the files AWS_SHARED_CREDENTIALS_FILE names', async () => {
    await plant('elsewhere/agent.env', `AWS_ACCESS_KEY_ID=${KEY_ID}\n`)
    await plant('custom/creds', `aws_access_key_id=${KEY_ID}\n`)
    const fromDir = await scan({}, [join(home, 'elsewhere')])
    assert.equal(fromDir.find((c) => c.status === 'FAIL')?.where, '~/elsewhere/agent.env:1')
    const fromEnv = await scan({ AWS_SHARED_CREDENTIALS_FILE: join(home, 'custom/creds') })
    assert.equal(fromEnv.find((c) => c.status === 'FAIL')?.where, '~/custom/creds:1')
    const missing = await scan({}, ['does-not-exist'])
    assert.equal(missing[0]?.status, 'WARN')
  })
})

describe('scanText and maskSecret', () => {
  const TABLE: Array<[string, string[]]> = [
    [`id ${KEY_ID}`, ['access key id']],
    [`XAKIAIOSFODNN7EXAMPLE`, []],
    ['AKIA123', []],
    [`"secretAccessKey": "${SECRET}"`, ['secret access key']],
    [`aws_session_token = IQoJb3JpZ2luX2VjEXAMPLE`, ['session token']],
    ['region = eu-west-1', []],
    ['  credential_process=foo', ['credential_process (runs a program that returns AWS credentials)']],
  ]
  for (const [text, kinds] of TABLE) it(JSON.stringify(text.slice(0, 30)), () => assert.deepEqual(scanText(text).map((h) => h.kind), kinds))

  it('masks', () => {
    assert.equal(maskSecret(KEY_ID), 'AKIA…MPLE')
    assert.equal(maskSecret(SECRET), '…EKEY')
    assert.equal(maskSecret('short'), '…')
  })
})
