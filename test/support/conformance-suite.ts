/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`), installed on demand into
 * a scratch folder (`.cache/conformance/`, gitignored) and never into the project's own
 * dependencies. It needs Node 22 (it imports `fs.globSync`); on an older Node the npm package
 * `node` brings a Node 22 binary from the registry into the same folder.
 *
 * Two releases, one per protocol lane:
 * - 0.1.16 (`latest`): the 2025-era wire (initialize, Mcp-Session-Id).
 * - 0.2.0-alpha.12: the only published release that speaks the 2026-07-28 wire (stateless,
 *   per-request `_meta`), and the one whose `--requirements 2026-07-28` set is frozen.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { ensureScratchInstall, findScratchInstall, runCaptured } from './scratch-install.js'

export const CONFORMANCE_RELEASES = { legacy: '0.1.16', modern: '0.2.0-alpha.12' } as const
const NODE: readonly [number, number] = [22, 0]

export type ConformanceRelease = keyof typeof CONFORMANCE_RELEASES

export interface ConformanceSuite {
  /** A Node >= 22 binary to run the suite with. */
  readonly node: string
  /** The CLI of each release. */
  readonly cli: Readonly<Record<ConformanceRelease, string>>
}

export type Installed = { readonly ok: true; readonly suite: ConformanceSuite; readonly cached: boolean } | { readonly ok: false; readonly skip: string }

function layout(dir: string, node: string): ConformanceSuite {
  const cli = (alias: string) => join(dir, 'node_modules', alias, 'dist', 'index.js')
  return { node, cli: { legacy: cli('conformance-legacy'), modern: cli('conformance-modern') } }
}

/**
 * The suite, from the cache or installed now (tens of seconds, once). `ok: false` only when the
 * npm registry cannot be reached (the caller skips, saying so); any other install failure throws.
 */
export async function ensureConformanceSuite(): Promise<Installed> {
  const spec = {
    cacheDir: fileURLToPath(new URL('../../.cache/conformance/', import.meta.url)),
    key: `legacy-${CONFORMANCE_RELEASES.legacy}_modern-${CONFORMANCE_RELEASES.modern}_node-${NODE[0]}`,
    dependencies: {
      'conformance-legacy': `npm:@modelcontextprotocol/conformance@${CONFORMANCE_RELEASES.legacy}`,
      'conformance-modern': `npm:@modelcontextprotocol/conformance@${CONFORMANCE_RELEASES.modern}`,
    },
    minNode: NODE,
    label: 'the conformance suite',
  }
  const cached = await findScratchInstall(spec)
  if (cached === undefined) {
    const ping = await runCaptured('npm', ['ping'], { timeoutMs: 30_000 })
    if (ping.code !== 0) return { ok: false, skip: `the npm registry is unreachable (npm ping: ${ping.output.trim().split('\n').at(-1) ?? 'no answer'})` }
  }
  const installed = cached ?? (await ensureScratchInstall(spec))
  const version = installed.node === process.execPath ? undefined : await runCaptured(installed.node, ['--version'], { timeoutMs: 10_000 })
  if (version !== undefined && (version.code !== 0 || !version.output.startsWith(`v${NODE[0]}.`))) {
    throw new Error(`the conformance suite was installed into ${installed.dir} but has no Node ${NODE[0]} to run with`)
  }
  return { ok: true, suite: layout(installed.dir, installed.node), cached: installed.cached }
}

// Loose: the suite's own result files; only what is asserted on is read.
const checksSchema = z.array(z.looseObject({ id: z.string(), status: z.string(), errorMessage: z.string().optional() }))

export interface Check {
  readonly id: string
  readonly status: string
  readonly errorMessage?: string | undefined
}

export interface ServerRun {
  readonly code: number | null
  readonly output: string
  /** The checks of every scenario that ran, by scenario name. */
  readonly scenarios: ReadonlyMap<string, readonly Check[]>
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/

/** Runs `conformance server --url <url> …args` with one release and reads the checks it saved. */
export async function runServerScenarios(suite: ConformanceSuite, release: ConformanceRelease, url: string, args: readonly string[], outDir: string): Promise<ServerRun> {
  const result = await runCaptured(suite.node, [suite.cli[release], 'server', '--url', url, '-o', outDir, ...args], { timeoutMs: 120_000 })
  const scenarios = new Map<string, readonly Check[]>()
  for (const entry of await readdir(outDir).catch(() => [])) {
    const name = RESULT_DIR.exec(entry)?.[1]
    if (name === undefined) continue
    const checks = checksSchema.parse(JSON.parse(await readFile(join(outDir, entry, 'checks.json'), 'utf8')))
    scenarios.set(name, [...(scenarios.get(name) ?? []), ...checks])
  }
  return { code: result.code, output: result.output, scenarios }
}
