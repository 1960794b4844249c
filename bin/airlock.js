#!/usr/bin/env node
// Runs the compiled CLI. In a checkout, `npm install` builds dist/ (the `prepare` script); after
// changing the sources, `npm run build` again, or run them directly with `npx tsx src/cli/main.ts`.
import { existsSync } from 'node:fs'

const main = new URL('../dist/src/cli/main.js', import.meta.url)
if (existsSync(main)) {
  await import(main.href)
} else {
  process.stderr.write('airlock: dist/ is missing: run `npm run build` in the checkout first\n')
  process.exitCode = 1
}
