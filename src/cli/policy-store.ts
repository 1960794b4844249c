import { watch, type FSWatcher } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Clock } from '../clock.js'
import { ConfigError } from '../errors.js'
import { buildPolicy } from '../policy/build-policy.js'
import { checkToolReferences } from '../policy/check-tool-references.js'
import { formatPolicyIssue, type PolicyIssue } from '../policy/policy-issue.js'
import type { Policy } from '../policy/policy.js'
import type { ToolKinds } from '../policy/tool-access.js'
import { readPolicyFiles } from './policy-files.js'

export interface PolicyStoreOptions {
  /** Policy files or directories (see readPolicyFiles). */
  readonly paths: readonly string[]
  /** Base for relative paths; defaults to the process's working directory. */
  readonly cwd?: string
  /** Called after a changed policy was validated and swapped in. */
  readonly onReload?: (policy: Policy) => void
  /** Called when a changed policy is invalid; the last good policy stays in force. One line per issue. */
  readonly onError?: (lines: readonly string[], issues: readonly PolicyIssue[]) => void
  /** Called with warnings (e.g. a grant past its notAfter) on the first load and each reload. */
  readonly onWarning?: (lines: readonly string[]) => void
  /** When given, grants naming unknown tools (or tools none of their connections fit) are errors. */
  readonly tools?: readonly ToolKinds[]
  /** How often files are checked when file events are missed; default 1000 ms. */
  readonly pollIntervalMs?: number
  /** Quiet time after a change before reloading, so half-written files settle; default 100 ms. */
  readonly debounceMs?: number
  /** Set false to rely on polling only. */
  readonly watch?: boolean
  readonly clock?: Clock
}

export interface PolicyStore {
  /** The policy in force; swapped atomically on a valid change. */
  current(): Policy
  /** Reloads now (e.g. on SIGHUP); resolves true when a new policy was swapped in. */
  reload(): Promise<boolean>
  /** Stops watching and polling. */
  close(): void
}

/**
 * Loads the policy and keeps it current: file events plus a stat poll pick changes up within about
 * a second; an invalid change keeps the last good policy and is retried on the next change.
 * @throws ConfigError POLICY_INVALID when the initial load fails, with one line per issue.
 */
export async function createPolicyStore(options: PolicyStoreOptions): Promise<PolicyStore> {
  const cwd = options.cwd ?? process.cwd()
  const pollIntervalMs = options.pollIntervalMs ?? 1000
  const debounceMs = options.debounceMs ?? 100

  const load = async (): Promise<{ fingerprint: string } & ({ ok: true; policy: Policy; warnings: string[] } | { ok: false; issues: PolicyIssue[] })> => {
    const files = await readPolicyFiles(options.paths, { cwd })
    const built = buildPolicy(files.documents, options.clock === undefined ? {} : { nowMs: options.clock.now() })
    const issues = [...files.issues, ...(built.ok ? [] : built.issues)]
    if (built.ok && options.tools !== undefined) issues.push(...checkToolReferences(built.policy, options.tools))
    if (!built.ok || issues.length > 0) return { ok: false, issues, fingerprint: files.fingerprint }
    return { ok: true, policy: built.policy, warnings: built.warnings.map(formatPolicyIssue), fingerprint: files.fingerprint }
  }

  let lastStat = await statSignature(options.paths, cwd)
  const first = await load()
  if (!first.ok) {
    throw new ConfigError('POLICY_INVALID', `policy is invalid:\n${first.issues.map(formatPolicyIssue).join('\n')}`)
  }
  let policy = first.policy
  if (first.warnings.length > 0) options.onWarning?.(first.warnings)
  let lastFingerprint = first.fingerprint
  let closed = false
  let running: Promise<boolean> | undefined
  let again = false
  let debounce: NodeJS.Timeout | undefined

  const attempt = async (): Promise<boolean> => {
    let result = await load()
    // A file caught mid-write fails to parse; when it changes again shortly, judge the settled version.
    for (let tries = 0; !result.ok && tries < 3 && !closed; tries++) {
      await sleep(debounceMs)
      const next = await load()
      if (next.fingerprint === result.fingerprint) break
      result = next
    }
    if (closed || result.fingerprint === lastFingerprint) return false
    lastFingerprint = result.fingerprint
    if (!result.ok) {
      options.onError?.(result.issues.map(formatPolicyIssue), result.issues)
      return false
    }
    policy = result.policy
    if (result.warnings.length > 0) options.onWarning?.(result.warnings)
    options.onReload?.(policy)
    return true
  }

  // Reloads never overlap; a change during a reload triggers one more.
  const reload = (): Promise<boolean> => {
    if (running !== undefined) {
      again = true
      return running
    }
    running = attempt()
      .catch((error: unknown) => {
        // A bug, not a bad file: report it like one and keep the last good policy.
        if (!closed) options.onError?.([`policy reload failed: ${error instanceof Error ? error.message : 'unknown error'}`], [])
        return false
      })
      .finally(() => {
        running = undefined
        if (again && !closed) {
          again = false
          void reload()
        }
      })
    return running
  }

  const schedule = () => {
    if (closed) return
    if (debounce !== undefined) clearTimeout(debounce)
    debounce = setTimeout(() => {
      debounce = undefined
      void reload()
    }, debounceMs)
  }

  const watchers: FSWatcher[] = []
  if (options.watch !== false) {
    for (const given of options.paths) {
      const absolute = resolve(cwd, given)
      const isDirectory = await stat(absolute).then((s) => s.isDirectory(), () => false)
      // Watch the folder even for a single file: editors and ConfigMaps replace files by rename.
      const folder = isDirectory ? absolute : dirname(absolute)
      const name = isDirectory ? undefined : basename(absolute)
      try {
        const watcher = watch(folder, { persistent: false }, (_event, filename) => {
          if (name === undefined || filename === null || filename === name || String(filename).startsWith('..')) schedule()
        })
        watcher.on('error', () => watcher.close())
        watchers.push(watcher)
      } catch {
        // Polling still covers this path.
      }
    }
  }

  let polling = false
  const poll = setInterval(() => {
    if (polling || closed) return
    polling = true
    statSignature(options.paths, cwd)
      .then((signature) => {
        if (signature !== lastStat) {
          lastStat = signature
          schedule()
        }
      })
      .catch(() => undefined)
      .finally(() => {
        polling = false
      })
  }, pollIntervalMs)

  return {
    current: () => policy,
    reload,
    close: () => {
      closed = true
      clearInterval(poll)
      if (debounce !== undefined) clearTimeout(debounce)
      for (const watcher of watchers) watcher.close()
    },
  }
}

// Names, sizes, inodes and mtimes of everything the paths cover: cheap to compute every second.
async function statSignature(paths: readonly string[], cwd: string): Promise<string> {
  const parts: string[] = []
  const describe = async (path: string) => {
    const s = await stat(path).catch(() => undefined)
    parts.push(s === undefined ? `${path}:missing` : `${path}:${s.ino}:${s.size}:${s.mtimeMs}`)
    return s
  }
  for (const given of paths) {
    const absolute = resolve(cwd, given)
    const s = await describe(absolute)
    if (s?.isDirectory() === true) {
      const names = await readdir(absolute).catch(() => [])
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) await describe(resolve(absolute, name))
    }
  }
  return parts.join('|')
}
