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
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ensureScratchInstall } from './scratch-install.js'

export const INSPECTOR_VERSION = '2.12.0'
const NODE: readonly [number, number] = [22, 19]

export interface InspectorInstall {
  readonly node: string
  readonly launcher: string
}

/** The pinned Inspector, from the cache or installed now (tens of seconds, once). Throws when it cannot be installed. */
export async function ensureInspector(): Promise<InspectorInstall> {
  const installed = await ensureScratchInstall({
    cacheDir: fileURLToPath(new URL('../../.cache/inspector/', import.meta.url)),
    key: `inspector-${INSPECTOR_VERSION}_node-${NODE.join('.')}`,
    dependencies: { '@modelcontextprotocol/inspector': INSPECTOR_VERSION },
    minNode: NODE,
    label: `MCP Inspector ${INSPECTOR_VERSION} (the browser test needs it)`,
  })
  return { node: installed.node, launcher: join(installed.dir, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js') }
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
