/**
 * `mcp-remote` (the stdio ↔ Streamable HTTP bridge many desktop clients use) in its OAuth mode, as it
 * ships, driven by the SDK's stdio client: it discovers the sandbox's authorization server from the
 * gateway, registers, and prints the authorization URL; a person (here: HTTP) signs in as alice on
 * the dev IdP's page and the browser lands on mcp-remote's loopback callback; then tools work.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { freePort } from '../../src/cli/sandbox-gateways.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { signInAs } from '../support/login-browser.js'
import { createTeardown } from '../support/teardown.js'

const MCP_REMOTE = fileURLToPath(new URL('../../node_modules/mcp-remote/dist/proxy.js', import.meta.url))

describe('mcp-remote in OAuth mode signs in to the sandbox', { timeout: 180_000 }, () => {
  const teardown = createTeardown()
  let sandbox: Sandbox
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-mcp-remote-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    sandbox = await startSandbox({ cwd: dir, port: 0 })
    teardown.add(() => sandbox.close())
  })
  after(() => teardown.run())

  it('signs in as alice through the login page, lists tools and calls whoami', async () => {
    const callbackPort = await freePort()
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, sandbox.gatewayUrl, String(callbackPort), '--host', '127.0.0.1'],
      // No browser to open here: mcp-remote says so and waits for the callback.
      env: { PATH: '/usr/bin:/bin', HOME: dir, MCP_REMOTE_CONFIG_DIR: join(dir, 'mcp-auth'), DISPLAY: '', BROWSER: '/bin/false' },
      stderr: 'pipe',
    })
    let log = ''
    const authorizationUrl = new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mcp-remote printed no authorization URL:\n${log}`)), 60_000)
      transport.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString('utf8')
        const found = /Please authorize this client by visiting:\s*(\S+)/.exec(log)?.[1]
        if (found !== undefined) {
          clearTimeout(timer)
          resolve(new URL(found))
        }
      })
    })
    const client = new Client({ name: 'oauth-mcp-remote-e2e', version: '1.0.0' })
    teardown.add(() => client.close())
    const connected = client.connect(transport)

    const url = await authorizationUrl
    assert.equal(url.origin, sandbox.idp.issuer, 'mcp-remote found the dev IdP through the gateway’s metadata')
    assert.equal(url.searchParams.get('resource'), sandbox.gatewayUrl, 'RFC 8707 resource is the gateway')
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256', 'PKCE')
    const { callback } = await signInAs('alice', url)
    assert.equal(callback.origin, `http://127.0.0.1:${callbackPort}`, `back to mcp-remote's loopback listener: ${callback.href}`)
    assert.equal(callback.searchParams.get('iss'), sandbox.idp.issuer, 'RFC 9207 iss in the authorization response')
    const landed = await fetch(callback)
    assert.equal(landed.status, 200, `mcp-remote took the code: ${await landed.text()}`)

    await connected
    const tools = (await client.listTools()).tools.map((t) => t.name)
    assert.ok(tools.includes('whoami') && tools.includes('sql_query'), `alice's tools through mcp-remote: ${tools.join(', ')}`)
    const whoami = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal(whoami.isError, undefined, JSON.stringify(whoami.content))
    assert.equal((whoami.structuredContent as { subject: string }).subject, 'alice')
  })
})
