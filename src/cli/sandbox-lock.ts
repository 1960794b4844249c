import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { AirlockError } from '../errors.js'
import { readSandboxState } from '../sandbox/sandbox-state.js'

export type SandboxErrorCode = 'SANDBOX_RUNNING' | 'PORT_IN_USE'
/** Why a sandbox refused to start; its message is the one line the CLI prints. */
export class SandboxError extends AirlockError<SandboxErrorCode> {}

export interface SandboxLock {
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>
}

/** Whether a process exists; EPERM means it does, under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM'
  }
}

/**
 * Takes `<stateDir>/sandbox.lock` for this process (exclusive create), before anything else in
 * the directory is written: a second sandbox in the same directory must not truncate the first's
 * trail or overwrite its IRSA token. A lock left by a process that no longer exists is taken over.
 * Throws SandboxError SANDBOX_RUNNING naming the running sandbox's pid.
 */
export async function acquireSandboxLock(cwd: string, stateDir: string, pid: number = process.pid): Promise<SandboxLock> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  const path = join(stateDir, 'sandbox.lock')
  await assertNoSandbox(cwd, stateDir)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600)
      await file.writeFile(`${pid}\n`)
      await file.close()
      return {
        async release() {
          const holder = await readFile(path, 'utf8').catch(() => '')
          if (holder.trim() === String(pid)) await rm(path, { force: true })
        },
      }
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) throw running(holder, undefined)
    await rm(path, { force: true })
  }
  throw new SandboxError('SANDBOX_RUNNING', 'another sandbox is starting in this directory; wait for it, or stop it')
}

/**
 * Throws SandboxError SANDBOX_RUNNING when a live process holds the lock in `stateDir`, or (a
 * sandbox from before the lock file) its sandbox.json names a live process. Reads only.
 */
export async function assertNoSandbox(cwd: string, stateDir: string): Promise<void> {
  const described = await readSandboxState(cwd).catch(() => undefined)
  if (described !== undefined && processAlive(described.pid)) throw running(described.pid, described.gatewayUrl)
  const holder = Number((await readFile(join(stateDir, 'sandbox.lock'), 'utf8').catch(() => '')).trim())
  if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) throw running(holder, undefined)
}

function running(pid: number, url: string | undefined): SandboxError {
  const at = url === undefined ? '' : ` at ${url}`
  return new SandboxError('SANDBOX_RUNNING', `a sandbox is already running in this directory (pid ${pid}${at}); use it, or stop it with Ctrl-C first`)
}

/**
 * Throws SandboxError PORT_IN_USE when 127.0.0.1:`port` cannot be bound, so a sandbox refuses
 * before it writes anything rather than failing half-started.
 */
export async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return
  const server = createServer()
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail)
      server.listen(port, '127.0.0.1', ok)
    })
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'error'
    const why = code === 'EADDRINUSE' ? 'is in use (another sandbox or server)' : code === 'EACCES' ? 'needs privileges' : `cannot be bound (${code})`
    throw new SandboxError('PORT_IN_USE', `port ${port} on 127.0.0.1 ${why}: stop what holds it, or pick another with --port`, { cause: error })
  }
  await new Promise<void>((ok) => server.close(() => ok()))
}
