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
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

export const CONFORMANCE_RELEASES = { legacy: '0.1.16', modern: '0.2.0-alpha.12' } as const
const NODE_MAJOR = 22
const KEY = `legacy-${CONFORMANCE_RELEASES.legacy}_modern-${CONFORMANCE_RELEASES.modern}_node-${NODE_MAJOR}`
const CACHE = fileURLToPath(new URL('../../.cache/conformance/', import.meta.url))

export type ConformanceRelease = keyof typeof CONFORMANCE_RELEASES

export interface ConformanceSuite {
  /** A Node >= 22 binary to run the suite with. */
  readonly node: string
  /** The CLI of each release. */
  readonly cli: Readonly<Record<ConformanceRelease, string>>
}

export type Installed = { readonly ok: true; readonly suite: ConformanceSuite; readonly cached: boolean } | { readonly ok: false; readonly skip: string }

interface Run {
  readonly code: number | null
  readonly output: string
}

function run(program: string, args: readonly string[], options: { cwd?: string; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, output: `${output}\n${error.message}` })
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

function hostNodeIsRecentEnough(): boolean {
  return Number(process.versions.node.split('.')[0]) >= NODE_MAJOR
}

function layout(dir: string): ConformanceSuite {
  const cli = (alias: string) => join(dir, 'node_modules', alias, 'dist', 'index.js')
  return {
    node: hostNodeIsRecentEnough() ? process.execPath : join(dir, 'node_modules', 'node', 'bin', 'node'),
    cli: { legacy: cli('conformance-legacy'), modern: cli('conformance-modern') },
  }
}

const markerSchema = z.object({ key: z.literal(KEY) })

async function cachedSuite(dir: string): Promise<ConformanceSuite | undefined> {
  try {
    markerSchema.parse(JSON.parse(await readFile(join(dir, 'installed.json'), 'utf8')))
  } catch {
    return undefined
  }
  const suite = layout(dir)
  if (hostNodeIsRecentEnough()) return suite
  const version = await run(suite.node, ['--version'], { timeoutMs: 10_000 })
  return version.code === 0 && version.output.startsWith(`v${NODE_MAJOR}.`) ? suite : undefined
}

/**
 * The suite, from the cache or installed now (tens of seconds, once). `ok: false` only when the
 * npm registry cannot be reached (the caller skips, saying so); any other install failure throws.
 */
export async function ensureConformanceSuite(): Promise<Installed> {
  const dir = join(CACHE, KEY)
  const cached = await cachedSuite(dir)
  if (cached !== undefined) return { ok: true, suite: cached, cached: true }

  const ping = await run('npm', ['ping'], { timeoutMs: 30_000 })
  if (ping.code !== 0) return { ok: false, skip: `the npm registry is unreachable (npm ping: ${ping.output.trim().split('\n').at(-1) ?? 'no answer'})` }

  // Installed beside the final folder and renamed into place, so an interrupted install is never mistaken for a cached one.
  await mkdir(CACHE, { recursive: true })
  const staging = join(CACHE, `staging-${randomBytes(4).toString('hex')}`)
  await mkdir(staging)
  try {
    const manifest = {
      private: true,
      dependencies: {
        'conformance-legacy': `npm:@modelcontextprotocol/conformance@${CONFORMANCE_RELEASES.legacy}`,
        'conformance-modern': `npm:@modelcontextprotocol/conformance@${CONFORMANCE_RELEASES.modern}`,
        ...(hostNodeIsRecentEnough() ? {} : { node: `^${NODE_MAJOR}` }),
      },
      // The `node` package's install script is what puts the Node 22 binary in place.
      allowScripts: { node: true },
    }
    await writeFile(join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: staging, timeoutMs: 300_000 })
    if (install.code !== 0) throw new Error(`installing the conformance suite failed:\n${install.output}`)
    await writeFile(join(staging, 'installed.json'), `${JSON.stringify({ key: KEY })}\n`)
    await rm(dir, { recursive: true, force: true })
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
  const suite = await cachedSuite(dir)
  if (suite === undefined) throw new Error(`the conformance suite was installed into ${dir} but has no Node ${NODE_MAJOR} to run with`)
  return { ok: true, suite, cached: false }
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
  const result = await run(suite.node, [suite.cli[release], 'server', '--url', url, '-o', outDir, ...args], { timeoutMs: 120_000 })
  const scenarios = new Map<string, readonly Check[]>()
  for (const entry of await readdir(outDir).catch(() => [])) {
    const name = RESULT_DIR.exec(entry)?.[1]
    if (name === undefined) continue
    const checks = checksSchema.parse(JSON.parse(await readFile(join(outDir, entry, 'checks.json'), 'utf8')))
    scenarios.set(name, [...(scenarios.get(name) ?? []), ...checks])
  }
  return { code: result.code, output: result.output, scenarios }
}
