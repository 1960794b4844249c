/**
 * Tools the tests drive but the project must not depend on (the MCP conformance suite, MCP
 * Inspector) are installed on demand into a scratch folder under `.cache/` (gitignored), keyed by
 * their pins. Many need a newer Node than the project's: on an older host the npm package `node`
 * brings that Node's binary into the same folder. An install is staged beside its final folder and
 * renamed into place, so an interrupted one is never mistaken for a cached one.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

export interface CapturedRun {
  readonly code: number | null
  /** stdout and stderr interleaved, the last 20,000 characters. */
  readonly output: string
}

/** Runs a program to its end (killed after `timeoutMs`); a failure to start is code -1. */
export function runCaptured(program: string, args: readonly string[], options: { readonly cwd?: string; readonly timeoutMs: number }): Promise<CapturedRun> {
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

export interface ScratchInstall {
  /** The folder `.cache/<name>/<key>`, holding `node_modules`. */
  readonly dir: string
  /** A Node binary of at least the required version: this process's when it is recent enough. */
  readonly node: string
  readonly cached: boolean
}

export interface ScratchInstallSpec {
  /** The cache folder, e.g. `.cache/inspector/` resolved. */
  readonly cacheDir: string
  /** Changes whenever a pin does: an older install is replaced. */
  readonly key: string
  /** npm dependencies (`name: version`, aliases allowed). */
  readonly dependencies: Readonly<Record<string, string>>
  readonly minNode: readonly [major: number, minor: number]
  /** For the error message: what is being installed. */
  readonly label: string
}

function hostNodeIsRecentEnough([major, minor]: readonly [number, number]): boolean {
  const [hostMajor = 0, hostMinor = 0] = process.versions.node.split('.').map(Number)
  return hostMajor > major || (hostMajor === major && hostMinor >= minor)
}

const markerSchema = z.object({ key: z.string() })

function nodeFor(spec: ScratchInstallSpec, dir: string): string {
  return hostNodeIsRecentEnough(spec.minNode) ? process.execPath : join(dir, 'node_modules', 'node', 'bin', 'node')
}

/** The cached install of `spec`, or undefined when there is none (or an older pin's). */
export async function findScratchInstall(spec: ScratchInstallSpec): Promise<ScratchInstall | undefined> {
  const dir = join(spec.cacheDir, spec.key)
  const marker = await readFile(join(dir, 'installed.json'), 'utf8').then(
    (text) => markerSchema.safeParse(JSON.parse(text)),
    () => undefined,
  )
  return marker?.success === true && marker.data.key === spec.key ? { dir, node: nodeFor(spec, dir), cached: true } : undefined
}

/** The cached install of `spec`, or installs it now (tens of seconds, once). Throws when npm fails. */
export async function ensureScratchInstall(spec: ScratchInstallSpec): Promise<ScratchInstall> {
  const cached = await findScratchInstall(spec)
  if (cached !== undefined) return cached
  const dir = join(spec.cacheDir, spec.key)
  const hostNode = hostNodeIsRecentEnough(spec.minNode)

  await mkdir(spec.cacheDir, { recursive: true })
  const staging = join(spec.cacheDir, `staging-${randomBytes(4).toString('hex')}`)
  await mkdir(staging)
  try {
    const manifest = {
      private: true,
      dependencies: { ...spec.dependencies, ...(hostNode ? {} : { node: `^${spec.minNode[0]}` }) },
      // The `node` package's install script is what puts the newer Node binary in place.
      allowScripts: { node: true },
    }
    await writeFile(join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const install = await runCaptured('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: staging, timeoutMs: 300_000 })
    if (install.code !== 0) throw new Error(`installing ${spec.label} failed:\n${install.output}`)
    await writeFile(join(staging, 'installed.json'), `${JSON.stringify({ key: spec.key })}\n`)
    await rm(dir, { recursive: true, force: true })
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
  return { dir, node: nodeFor(spec, dir), cached: false }
}
