// npx tsx bench/shell-guard.ts: cost of the shell guard per ssm_run command, with sh-syntax's own
// parse (a new Go runtime per call, what the guard used to pay) for comparison.
import { performance } from 'node:perf_hooks'
import { LangVariant, parse } from 'sh-syntax'
import { matchTemplate } from '../src/guard/shell/match-template.js'
import { quoteArgv } from '../src/guard/shell/quote-argv.js'
import { tokenizeCommand } from '../src/guard/shell/tokenize-command.js'
import { parseCommandTemplate } from '../src/policy/command-template.js'
import { TEST_TEMPLATES } from '../test/guard/shell/escape-fixtures.js'

const templates = TEST_TEMPLATES.map((t) => parseCommandTemplate(t))
const LINES: readonly [string, string][] = [
  ['short', 'uptime'],
  ['typical', "journalctl -u 'nginx' -n \"50\""],
  ['4 KiB, 1365 quoted parts', 'a""'.repeat(1365)],
]

/**
 * Milliseconds per call after a warm-up: the best mean of several short rounds, so other load on
 * the machine inflates the figure as little as possible.
 */
async function msPerCall(fn: () => Promise<unknown>, rounds: number, roundMs: number): Promise<number> {
  for (let i = 0; i < 50; i++) await fn()
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < rounds; r++) {
    let calls = 0
    const start = performance.now()
    while (performance.now() - start < roundMs) {
      await fn()
      calls++
    }
    best = Math.min(best, (performance.now() - start) / calls)
  }
  return best
}

// V8 first runs the parser's WebAssembly on its baseline compiler; let it tier up before measuring.
for (let i = 0; i < 3000; i++) await tokenizeCommand(LINES[1]?.[1] ?? 'uptime')

const rows: { line: string; guard: string; stockParse: string }[] = []
for (const [name, line] of LINES) {
  const guard = await msPerCall(async () => {
    const argv = await tokenizeCommand(line)
    try {
      matchTemplate(argv, templates)
      quoteArgv(argv)
    } catch {
      // Heavy lines match no template; only the cost matters here.
    }
  }, 10, 200)
  const stock = await msPerCall(() => parse(line, { variant: LangVariant.LangPOSIX, keepComments: true }), 5, 400)
  rows.push({ line: name, guard: `${(guard * 1000).toFixed(1)} µs`, stockParse: `${(stock * 1000).toFixed(1)} µs` })
}
console.table(rows)
