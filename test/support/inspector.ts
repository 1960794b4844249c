/**
 * MCP Inspector (`@modelcontextprotocol/inspector`), pinned, installed on demand into a scratch
 * folder (`.cache/inspector/`, gitignored), never into the project's dependencies. Every release
 * since 0.16 declares Node >= 22 (2.x needs 22.19); on an older Node the npm package `node` brings
 * a Node 22 binary into the same folder. An install that fails throws: the browser test fails
 * rather than being skipped.
 *
 * 2.12.0 is the newest release: its web UI connects over Streamable HTTP and signs in with OAuth
 * (discovery, dynamic registration, PKCE, `resource`) in the page itself.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

export const INSPECTOR_VERSION = '2.12.0'
const NODE_MAJOR = 22
const KEY = `inspector-${INSPECTOR_VERSION}_node-${NODE_MAJOR}`
const CACHE = fileURLToPath(new URL('../../.cache/inspector/', import.meta.url))

export interface InspectorInstall {
  readonly node: string
  readonly launcher: string
}

function hostNodeIsRecentEnough(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major > NODE_MAJOR || (major === NODE_MAJOR && minor >= 19)
}

function layout(dir: string): InspectorInstall {
  return {
    node: hostNodeIsRecentEnough() ? process.execPath : join(dir, 'node_modules', 'node', 'bin', 'node'),
    launcher: join(dir, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js'),
  }
}

function run(program: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
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

/** The pinned Inspector, from the cache or installed now (tens of seconds, once). Throws when it cannot be installed. */
export async function ensureInspector(): Promise<InspectorInstall> {
  const dir = join(CACHE, KEY)
  const marker = z.object({ key: z.literal(KEY) })
  try {
    marker.parse(JSON.parse(await readFile(join(dir, 'installed.json'), 'utf8')))
    return layout(dir)
  } catch {
    // Not installed yet, or an older pin: install below.
  }
  await mkdir(CACHE, { recursive: true })
  const staging = join(CACHE, `staging-${randomBytes(4).toString('hex')}`)
  await mkdir(staging)
  try {
    const manifest = {
      private: true,
      dependencies: { '@modelcontextprotocol/inspector': INSPECTOR_VERSION, ...(hostNodeIsRecentEnough() ? {} : { node: `^${NODE_MAJOR}` }) },
      allowScripts: { node: true },
    }
    await writeFile(join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], staging, 300_000)
    if (install.code !== 0) throw new Error(`installing MCP Inspector ${INSPECTOR_VERSION} failed (the browser test needs it):\n${install.output}`)
    await writeFile(join(staging, 'installed.json'), `${JSON.stringify({ key: KEY })}\n`)
    await rm(dir, { recursive: true, force: true })
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
  return layout(dir)
}

export interface RunningInspector {
  /** The web UI's URL, with its API token. */
  readonly url: string
  close(): Promise<void>
}

/**
 * Starts the Inspector's web UI on `port` for one Streamable HTTP server, with its state and
 * secrets kept in `home` and in memory, and no browser opened.
 */
export async function startInspectorWeb(install: InspectorInstall, options: { serverUrl: string; port: number; home: string }): Promise<RunningInspector> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: options.home,
    CLIENT_PORT: String(options.port),
    MCP_SANDBOX_PORT: '0',
    MCP_AUTO_OPEN_ENABLED: 'false',
    MCP_INSPECTOR_SECRET_STORE: 'memory',
    MCP_STORAGE_DIR: join(options.home, 'storage'),
  }
  const child: ChildProcess = spawn(install.node, [install.launcher, '--web', '--transport', 'http', '--server-url', options.serverUrl], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Inspector did not start within 60 s:\n${output}`)), 60_000)
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue
      createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`
        const found = /(http:\/\/127\.0\.0\.1:\d+\/?\?MCP_INSPECTOR_API_TOKEN=[0-9a-f]+)/.exec(line)?.[1]
        if (found !== undefined) {
          clearTimeout(timer)
          resolve(found)
        }
      })
    }
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the Inspector exited (code ${code ?? 'signal'}):\n${output}`))
    })
  })
  return {
    url,
    close: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
      }),
  }
}
