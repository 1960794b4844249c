import { spawn } from 'node:child_process'
import { constants } from 'node:os'

/** How the SSM agent ends a script it stopped (timeout or cancel): 128 + SIGKILL. */
export const STOPPED_PREEMPTIVELY_EXIT_CODE = 137
/** Bytes of each stream kept in memory; the API truncates further when it renders output. */
const CAPTURE_LIMIT = 1024 * 1024

export interface ScriptOutcome {
  readonly ending: 'exited' | 'timedOut' | 'cancelled'
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunningScript {
  readonly done: Promise<ScriptOutcome>
  cancel(): void
}

function capture(stream: NodeJS.ReadableStream | null): () => string {
  const chunks: Buffer[] = []
  let size = 0
  stream?.on('data', (chunk: Buffer) => {
    if (size >= CAPTURE_LIMIT) return
    chunks.push(chunk.subarray(0, CAPTURE_LIMIT - size))
    size += chunk.length
  })
  return () => Buffer.concat(chunks).toString('utf8')
}

/**
 * Runs a script the way the agent's aws:runShellScript plugin does on Linux: `/bin/sh -c`, in the
 * instance's directory, with a minimal environment (PATH, HOME), killed as a process group on
 * timeout or cancel. This is the host's shell: the emulator is for local demos and tests, not a
 * security boundary.
 */
export function runScript(options: { readonly script: string; readonly dir: string; readonly timeoutSeconds: number }): RunningScript {
  const child = spawn('/bin/sh', ['-c', options.script], {
    cwd: options.dir,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: options.dir, LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const stdout = capture(child.stdout)
  const stderr = capture(child.stderr)
  let stopped: 'timedOut' | 'cancelled' | undefined

  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  const timer = setTimeout(() => {
    stopped ??= 'timedOut'
    kill()
  }, options.timeoutSeconds * 1000)

  const done = new Promise<ScriptOutcome>((resolve) => {
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve({ ending: 'exited', exitCode: 127, stdout: '', stderr: error.message })
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const exitCode = stopped === undefined ? (code ?? 128 + (signal === null ? 0 : signalNumber(signal))) : STOPPED_PREEMPTIVELY_EXIT_CODE
      resolve({ ending: stopped ?? 'exited', exitCode, stdout: stdout(), stderr: stderr() })
    })
  })
  return {
    done,
    cancel: () => {
      stopped ??= 'cancelled'
      kill()
    },
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal]
}
