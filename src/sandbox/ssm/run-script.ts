import { spawn } from 'node:child_process'
import { accessSync, constants as fsConstants } from 'node:fs'
import { constants } from 'node:os'
import { INSTANCE_UID } from './seed-instance-root.js'

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

/** Where the emulator looks for bubblewrap unless told otherwise. */
export const DEFAULT_BWRAP = '/usr/bin/bwrap'

/** What an emulated instance is: its root filesystem on the host, its host name, and the sandbox that runs its commands. */
export interface InstanceSandbox {
  /** The host directory that is the instance's `/` (see seedInstanceRoot). */
  readonly root: string
  readonly hostname: string
  /** Host system directories bound read-only at the same place (`usr`, and `lib` where it is not a link). */
  readonly systemDirs: readonly string[]
  /** The bubblewrap executable. */
  readonly bwrap: string
}

/** The message a script gets instead of running when bubblewrap is missing: commands never run on the host. */
export function bwrapMissingMessage(bwrap: string): string {
  return (
    `airlock sandbox: this emulated instance runs commands only under bubblewrap, which was not found at ${bwrap}; ` +
    'install it (Debian/Ubuntu: apt-get install bubblewrap). Nothing was run.\n'
  )
}

/**
 * bubblewrap's options for an instance's scripts: every namespace unshared (no network; its own
 * pids, so `ps` sees only the script's processes; its own host name), all capabilities dropped, an unprivileged
 * uid, the instance's root read-only with the host's system directories read-only on top, its own
 * /proc, /dev and a writable /tmp, and a minimal environment. bubblewrap dies with the emulator.
 */
export function bwrapOptions(sandbox: InstanceSandbox): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    '--uid', String(INSTANCE_UID),
    '--gid', String(INSTANCE_UID),
    '--ro-bind', sandbox.root, '/',
    ...sandbox.systemDirs.flatMap((dir) => ['--ro-bind', `/${dir}`, `/${dir}`]),
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
    '--hostname', sandbox.hostname,
    '--chdir', '/',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'LANG', 'C',
  ]
}

/**
 * Runs a script the way the agent's aws:runShellScript plugin does on Linux (`/bin/sh -c`), inside
 * the instance's bubblewrap sandbox (see bwrapOptions), killed as a process group on timeout or
 * cancel. Without bubblewrap nothing runs: the script fails with {@link bwrapMissingMessage}.
 */
export function runScript(options: { readonly script: string; readonly sandbox: InstanceSandbox; readonly timeoutSeconds: number }): RunningScript {
  try {
    accessSync(options.sandbox.bwrap, fsConstants.X_OK)
  } catch {
    return { done: Promise.resolve({ ending: 'exited', exitCode: 127, stdout: '', stderr: bwrapMissingMessage(options.sandbox.bwrap) }), cancel: () => {} }
  }
  // The options go through a pipe (`--args 3`), so the instance's `ps` does not show host paths.
  const child = spawn(options.sandbox.bwrap, ['--args', '3', '/bin/sh', '-c', options.script], {
    env: { PATH: '/usr/bin:/bin', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  })
  const argsPipe = child.stdio[3]
  if (argsPipe !== null && argsPipe !== undefined && 'end' in argsPipe) {
    argsPipe.on('error', () => {})
    argsPipe.end(bwrapOptions(options.sandbox).map((arg) => `${arg}\0`).join(''))
  }
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
