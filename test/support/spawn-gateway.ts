/**
 * Runs `airlock serve` as a real child process (`node --import tsx src/cli/main.ts`), for tests
 * that need real signals, real exits and a real event loop.
 *
 *   const gw = await spawnGateway({ config: { issuer, policy: [...], audit: { path } }, env })
 *   gw.child.kill('SIGTERM'); const { code, atMs } = await gw.exited
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

export interface SpawnedGateway {
  readonly child: ChildProcess
  /** The MCP endpoint the gateway logged when it started listening. */
  readonly url: string
  /** Resolves when the process ends; `atMs` is performance.now() at that moment. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly atMs: number }>
  /** Everything written to stderr so far (the gateway's JSON log lines). */
  stderr(): string
}

export interface SpawnGatewayOptions {
  /** Written as the config file in `dir`. */
  readonly config: Record<string, unknown>
  readonly dir: string
  /** The child's whole environment (PATH is added). Nothing is inherited, so no AWS settings leak in. */
  readonly env?: Readonly<Record<string, string>>
  /** Give up waiting for "airlock is listening" after this long. Default 30 s. */
  readonly startTimeoutMs?: number
}

const listeningLine = z.object({ msg: z.literal('airlock is listening'), mcp: z.string() })

/** The MCP endpoint from the gateway's "airlock is listening" JSON log line, once it is there. */
function listeningUrl(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    if (!line.includes('airlock is listening')) continue
    try {
      const parsed = listeningLine.safeParse(JSON.parse(line))
      if (parsed.success) return parsed.data.mcp
    } catch {
      // A partial line: the rest is still on its way.
    }
  }
  return undefined
}

export async function spawnGateway(options: SpawnGatewayOptions): Promise<SpawnedGateway> {
  const configPath = join(options.dir, 'airlock.json')
  // The admin listener on a free port unless the test chose one: tests run side by side.
  await writeFile(configPath, JSON.stringify({ admin: { host: '127.0.0.1', port: 0 }, ...options.config }, null, 2))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configPath], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.dir, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() }))
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`gateway did not start:\n${stderr}`))
    }, options.startTimeoutMs ?? 30_000)
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk
      const mcp = listeningUrl(stderr)
      if (mcp !== undefined) {
        clearTimeout(timer)
        resolve(mcp)
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`gateway exited with ${code} before listening:\n${stderr}`))
    })
  })
  return { child, url, exited, stderr: () => stderr }
}
