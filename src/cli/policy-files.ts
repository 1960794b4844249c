import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { PolicyDocument } from '../policy/build-policy.js'
import { checkJsonText } from '../policy/check-json-text.js'
import { formatIssuePath, type PolicyIssue } from '../policy/policy-issue.js'

/** Policy files larger than this are refused rather than read. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024
export const SCHEMA_FILE_NAME = 'policy.schema.json'

export interface PolicyFiles {
  /** Parsed documents, named as the operator wrote the path (`policies/demo.json`). */
  readonly documents: readonly PolicyDocument[]
  /** Files that could not be read or are not valid JSON (or repeat a key). */
  readonly issues: readonly PolicyIssue[]
  /** Absolute paths of the files read, in order. */
  readonly files: readonly string[]
  /** Changes whenever any file's name or content changes; used to skip no-op reloads. */
  readonly fingerprint: string
}

/**
 * Reads policy paths: a file, or a directory whose `*.json` files are read in name order
 * (`policy.schema.json` and hidden files skipped, so editor temp files and Kubernetes ConfigMap
 * internals are ignored). Never throws: unreadable paths and bad JSON come back as issues, with
 * line:column for syntax errors.
 */
export async function readPolicyFiles(paths: readonly string[], options: { readonly cwd?: string } = {}): Promise<PolicyFiles> {
  const cwd = options.cwd ?? process.cwd()
  const documents: PolicyDocument[] = []
  const issues: PolicyIssue[] = []
  const files: string[] = []
  const hash = createHash('sha256')
  const seen = new Set<string>()

  const readOne = async (source: string, absolute: string) => {
    if (seen.has(absolute)) return
    seen.add(absolute)
    files.push(absolute)
    let text: string
    try {
      const info = await stat(absolute)
      if (info.size > MAX_POLICY_FILE_BYTES) {
        issues.push({ source, path: '', message: `file is larger than ${MAX_POLICY_FILE_BYTES} bytes` })
        hash.update(`${source}\0too-large\0${info.size}\0`)
        return
      }
      text = await readFile(absolute, 'utf8')
    } catch (error) {
      issues.push({ source, path: '', message: describeFsError(error) })
      hash.update(`${source}\0unreadable\0`)
      return
    }
    hash.update(`${source}\0${text.length}\0${text}\0`)
    const body = text.startsWith('\uFEFF') ? text.slice(1) : text
    const problems = checkJsonText(body)
    for (const p of problems) {
      const isDuplicate = p.path.length > 0
      issues.push({ source, path: formatIssuePath(p.path), message: isDuplicate ? p.message : `invalid JSON: ${p.message}`, line: p.line, column: p.column })
    }
    if (problems.length > 0) return
    try {
      const data: unknown = JSON.parse(body)
      documents.push({ source, data })
    } catch {
      issues.push({ source, path: '', message: 'invalid JSON' })
    }
  }

  for (const given of paths) {
    const absolute = resolve(cwd, given)
    let isDirectory: boolean
    try {
      const info = await stat(absolute)
      if (!info.isDirectory() && !info.isFile()) {
        issues.push({ source: given, path: '', message: 'not a file or directory' })
        continue
      }
      isDirectory = info.isDirectory()
    } catch (error) {
      issues.push({ source: given, path: '', message: describeFsError(error) })
      hash.update(`${given}\0missing\0`)
      continue
    }
    if (!isDirectory) {
      await readOne(given, absolute)
      continue
    }
    let names: string[]
    try {
      names = (await readdir(absolute)).filter((n) => n.endsWith('.json') && !n.startsWith('.') && n !== SCHEMA_FILE_NAME).sort()
    } catch (error) {
      issues.push({ source: given, path: '', message: describeFsError(error) })
      continue
    }
    if (names.length === 0) issues.push({ source: given, path: '', message: 'no policy files (*.json) in this directory' })
    for (const name of names) await readOne(join(given, name), join(absolute, name))
  }
  return { documents, issues, files, fingerprint: hash.digest('hex') }
}

function describeFsError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'is a directory'
    default:
      return `cannot read (${typeof code === 'string' ? code : 'unknown error'})`
  }
}
