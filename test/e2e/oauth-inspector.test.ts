/**
 * MCP Inspector's web UI, as it ships, in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core): connect to the sandbox gateway over Streamable HTTP, sign in as bob on the dev
 * IdP's page, list the tools and call whoami. Nothing here is skipped: without Chromium or the
 * Inspector, the test fails.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchChromium, requireChromium } from '../support/chromium.js'
import { freePort } from '../../src/cli/sandbox-gateways.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { ensureInspector, INSPECTOR_VERSION, startInspectorWeb, type RunningInspector } from '../support/inspector.js'
import { createTeardown } from '../support/teardown.js'


describe(`MCP Inspector ${INSPECTOR_VERSION} web UI signs in to the sandbox with OAuth`, { timeout: 600_000 }, () => {
  const teardown = createTeardown()
  let sandbox: Sandbox
  let inspector: RunningInspector
  let browser: Browser

  before(async () => {
    requireChromium()
    const install = await ensureInspector()
    const dir = await mkdtemp(join(tmpdir(), 'airlock-inspector-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    sandbox = await startSandbox({ cwd: dir, port: 0 })
    teardown.add(() => sandbox.close())
    inspector = await startInspectorWeb(install, { serverUrl: sandbox.gatewayUrl, port: await freePort(), home: join(dir, 'home') })
    teardown.add(() => inspector.close())
    browser = await launchChromium()
    teardown.add(() => browser.close())
  })
  after(() => teardown.run())

  it('connects over Streamable HTTP, signs in as bob, lists tools and calls whoami', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    const visited: string[] = []
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url())
    })
    await page.goto(inspector.url)
    await page.getByRole('switch', { name: /Connect or disconnect/ }).check({ force: true })

    // The Inspector sends the whole window to the dev IdP's sign-in page.
    await page.waitForURL((url) => url.href.startsWith(`${sandbox.idp.issuer}/interaction/`), { timeout: 30_000 })
    await page.getByRole('button', { name: 'bob', exact: true }).click()
    await page.getByText('Connected', { exact: true }).waitFor({ timeout: 30_000 })
    const callback = visited.map((u) => new URL(u)).find((u) => u.pathname === '/oauth/callback')
    assert.ok(callback !== undefined, `the IdP sent the browser back to the Inspector: ${visited.join(' → ')}`)
    assert.equal(callback.searchParams.get('iss'), sandbox.idp.issuer, 'RFC 9207 iss in the authorization response')
    assert.ok(callback.searchParams.get('code') !== null, 'an authorization code came back')

    await page.locator('label', { hasText: /^Tools$/ }).click()
    for (const tool of ['whoami', 'ssm_run', 'kubectl']) await page.getByText(tool, { exact: true }).first().waitFor({ timeout: 30_000 })
    assert.equal(await page.getByText('sql_query', { exact: true }).count(), 0, 'bob is not offered sql_query')
    await page.getByText('whoami', { exact: true }).first().click()
    await page.getByRole('button', { name: 'Execute Tool' }).click()
    const subject = page.getByText(/"subject":\s*"bob"/).first()
    await subject.waitFor({ timeout: 30_000 })
    await page.getByText(/"groups":/).first().waitFor()
    const shown = await subject.innerText()
    t.diagnostic(`whoami in the Inspector: ${shown.replace(/\s+/g, ' ').slice(0, 160)}`)
    assert.doesNotMatch(shown, /"subject":\s*"alice"/, 'the result is bob’s')
  })
})
