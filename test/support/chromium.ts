/**
 * Debian's Chromium for the browser tests, driven by playwright-core. A browser test that cannot
 * run fails: `.ci/run` installs the package, and nothing here skips.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

/** Fails the test at once (before any slow set-up) when the browser is not installed. */
export function requireChromium(): void {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); this test is never skipped`)
}

/** Headless Chromium; `--no-sandbox` because the tests run as root. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}
