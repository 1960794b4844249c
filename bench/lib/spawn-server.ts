import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { z } from 'zod'

const cpuUsageSchema = z.object({ user: z.number(), system: z.number() })

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Resident set size and V8 heap in use of the server process after a full GC, in MiB. */
  memory(): Promise<{ readonly rssMiB: number; readonly heapMiB: number }>
  /** User + system CPU the server process has used so far, in ms. */
  cpuMs(): Promise<number>
  /** Sends `signal` and resolves with the rest of the first line the server prints starting with `prefix`. */
  ask(signal: NodeJS.Signals, prefix: string): Promise<string>
  stop(): Promise<void>
}

/**
 * Starts a bench server script as its own process; resolves once it prints `READY <url>`.
 * `nodeArgs` go before the script (e.g. `--cpu-prof`).
 */
export function spawnServer(script: string, env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, '--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin })
    const ask = (signal: NodeJS.Signals, prefix: string) => {
      const answer = new Promise<string>((done) => {
        const onLine = (text: string) => {
          if (!text.startsWith(prefix)) return
          lines.off('line', onLine)
          done(text.slice(prefix.length))
        }
        lines.on('line', onLine)
      })
      child.kill(signal)
      return answer
    }
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return
      resolve({
        url: line.slice(6).trim(),
        child,
        async cpuMs() {
          const usage = cpuUsageSchema.parse(JSON.parse(await ask('SIGWINCH', 'CPU ')))
          return (usage.user + usage.system) / 1000
        },
        ask,
        async memory() {
          const line = new Promise<string>((done) => {
            const onLine = (text: string) => {
              if (!text.startsWith('GC ')) return
              lines.off('line', onLine)
              done(text.slice(3))
            }
            lines.on('line', onLine)
          })
          child.kill('SIGUSR2')
          const usage: unknown = JSON.parse(await line)
          const field = (name: string) => (typeof usage === 'object' && usage !== null && name in usage ? Number((usage as Record<string, unknown>)[name]) : Number.NaN)
          return { rssMiB: field('rss') / 1048576, heapMiB: field('heapUsed') / 1048576 }
        },
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    })
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)))
  })
}
