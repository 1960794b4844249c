/**
 * The approvals page in headless Chromium (Debian's `chromium`, driven by playwright-core) against
 * the real sandbox: carol signs in on the dev IdP's page, sees bob's pending restart and approves
 * it, and bob's agent's retry runs; bob signs in and cannot approve his own request. Nothing here
 * is skipped: without Chromium the test fails.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, requireChromium } from '../support/chromium.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { APPROVAL_REQUEST_META_KEY } from '../../src/mcp/call-tool.js'
import { createTeardown } from '../support/teardown.js'

type ToolResult = { isError?: boolean; content: unknown; _meta?: Record<string, unknown> }
const restart = { connection: 'demo-cluster', verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'payments', approvalReason: 'payments <b>is</b> crash-looping' }

describe('the approvals page in Chromium: carol approves bob\'s restart, bob cannot approve his own', { timeout: 300_000 }, () => {
  const teardown = createTeardown()
  let sandbox: Sandbox
  let browser: Browser
  let bob: Client

  before(async () => {
    requireChromium()
    const dir = await mkdtemp(join(tmpdir(), 'airlock-approvals-web-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    sandbox = await startSandbox({ cwd: dir, port: 0 })
    teardown.add(() => sandbox.close())
    bob = new Client({ name: 'bobs-agent', version: '1.0.0' })
    const token = await sandbox.idp.mintToken('bob')
    await bob.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    teardown.add(() => bob.close())
    browser = await launchChromium()
    teardown.add(() => browser.close())
  })
  after(() => teardown.run())

  async function ask(): Promise<string> {
    const pending = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.match(JSON.stringify(pending.content), /APPROVAL_PENDING/)
    const id = pending._meta?.[APPROVAL_REQUEST_META_KEY]
    assert.ok(typeof id === 'string', 'the request id is in _meta')
    return id
  }

  /** A fresh browser profile signs in as `user` on the dev IdP's login page; returns the list page. */
  async function signIn(user: 'carol' | 'bob'): Promise<Page> {
    const page = await (await browser.newContext()).newPage()
    const first = await page.goto(`${sandbox.adminUrl}/approvals`)
    assert.ok(first !== null, 'navigated')
    await page.waitForURL((url) => url.href.startsWith(`${sandbox.idp.issuer}/interaction/`), { timeout: 30_000 })
    await page.getByRole('button', { name: user, exact: true }).click()
    await page.waitForURL(`${sandbox.adminUrl}/approvals`, { timeout: 30_000 })
    await page.getByText(`Signed in as ${user}`).waitFor({ timeout: 30_000 })
    return page
  }

  it('carol signs in, sees bob\'s request and approves it; bob\'s agent\'s retry runs', async () => {
    const id = await ask()
    const page = await signIn('carol')
    const response = await page.reload()
    assert.match(response?.headers()['content-security-policy'] ?? '', /^default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'/, 'strict CSP on the page')
    const card = page.locator(`article[data-request-id="${id}"]`)
    await card.waitFor()
    const text = await card.innerText()
    for (const part of ['bob wants kubectl', 'demo-cluster', 'payments <b>is</b> crash-looping', '"rollout-restart"', 'Time left']) {
      assert.ok(text.includes(part), `the card shows ${part}: ${text}`)
    }
    assert.equal(await card.locator('b').count(), 0, 'the reason is text, not markup')
    const approveForm = card.locator('form', { has: page.locator('input[name="verdict"][value="approve"]') })
    await approveForm.locator('textarea').fill('pods checked: the secret is fixed')
    await approveForm.getByRole('button', { name: 'Approve' }).click()
    await page.getByText(`Approved request ${id}.`).waitFor({ timeout: 30_000 })
    assert.equal(await page.locator(`article[data-request-id="${id}"]`).count(), 0, 'no longer pending')

    const ran = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.equal(ran.isError, undefined, JSON.stringify(ran.content))
  })

  it('bob signs in, is offered nothing, and a forged approval of his own request is refused with a clear message', async () => {
    const id = await ask()
    const page = await signIn('bob')
    await page.getByText('You are not in any approver group').waitFor()
    assert.equal(await page.locator('article').count(), 0, 'bob sees no request to decide')
    // Bob builds the approve form himself, with his own session's CSRF token, in his own browser.
    // (A string: this project's TypeScript has no DOM types; it runs in the page.)
    await page.evaluate(`(() => {
      const form = document.createElement('form')
      form.method = 'post'
      form.action = '/approvals/decide'
      const fields = { csrf: document.querySelector('input[name="csrf"]').value, id: ${JSON.stringify(id)}, verdict: 'approve', reason: 'it is mine' }
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement('input')
        input.type = 'hidden'
        input.name = name
        input.value = value
        form.append(input)
      }
      document.body.append(form)
      form.submit()
    })()`)
    await page.getByText(`Request ${id} was not decided: Nobody may approve or deny their own request.`).waitFor({ timeout: 30_000 })
    const still = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.match(JSON.stringify(still.content), /APPROVAL_PENDING/, 'nothing ran')
    assert.equal(still._meta?.[APPROVAL_REQUEST_META_KEY], id, 'the same request is still pending')
  })
})
