/** A parsed selector; `undefined` from a parser means the selector was malformed (400). */
export type Matcher = (object: KubeObject) => boolean
export type KubeObject = Record<string, unknown>

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/

/** Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`, comma = AND. */
export function parseLabelSelector(selector: string): Matcher | undefined {
  const requirements: Array<(labels: Record<string, string>) => boolean> = []
  for (const term of splitTopLevel(selector)) {
    const t = term.trim()
    if (t === '') continue
    let m: RegExpExecArray | null
    if ((m = /^(\S+?)\s+(in|notin)\s+\(([^()]*)\)$/.exec(t)) !== null) {
      const [, key = '', op, list = ''] = m
      const values = list.split(',').map((v) => v.trim())
      if (!LABEL_KEY.test(key) || values.some((v) => !LABEL_VALUE.test(v))) return undefined
      requirements.push(op === 'in' ? (l) => l[key] !== undefined && values.includes(l[key]) : (l) => l[key] === undefined || !values.includes(l[key]))
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(t)) !== null) {
      const [, key = '', op, value = ''] = m
      if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value)) return undefined
      requirements.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value)
    } else if ((m = /^!\s*(\S+)$/.exec(t)) !== null) {
      const key = m[1] ?? ''
      if (!LABEL_KEY.test(key)) return undefined
      requirements.push((l) => l[key] === undefined)
    } else if (LABEL_KEY.test(t)) {
      requirements.push((l) => l[t] !== undefined)
    } else {
      return undefined
    }
  }
  return (object) => {
    const labels = labelsOf(object)
    return requirements.every((r) => r(labels))
  }
}

/** Field selectors the stand-in indexes; anything else is refused like the API server does. */
const FIELDS: Record<string, readonly string[]> = {
  '*': ['metadata.name', 'metadata.namespace'],
  Pod: ['status.phase', 'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'status.podIP'],
  Event: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type', 'source'],
  Secret: ['type'],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
}

export type FieldSelectorResult = { readonly ok: true; readonly match: Matcher } | { readonly ok: false; readonly message: string }

/** Field selectors: `path=v`, `path==v`, `path!=v`, comma = AND, over the fields this kind supports. */
export function parseFieldSelector(selector: string, kind: string): FieldSelectorResult {
  const requirements: Matcher[] = []
  const allowed = [...(FIELDS['*'] ?? []), ...(FIELDS[kind] ?? [])]
  for (const term of selector.split(',')) {
    const t = term.trim()
    if (t === '') continue
    const m = /^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$/.exec(t)
    if (m === null) return { ok: false, message: `invalid selector: '${selector}'; can't understand '${t}'` }
    const [, field = '', op, value = ''] = m
    if (!allowed.includes(field)) return { ok: false, message: `field label not supported: ${field}` }
    requirements.push(op === '!=' ? (o) => fieldValue(o, field) !== value : (o) => fieldValue(o, field) === value)
  }
  return { ok: true, match: (o) => requirements.every((r) => r(o)) }
}

function fieldValue(object: KubeObject, path: string): string {
  if (path === 'source') return String(getPath(object, 'source.component') ?? '')
  const v = getPath(object, path)
  return v === undefined || v === null ? '' : String(v)
}

export function getPath(object: unknown, path: string): unknown {
  let current: unknown = object
  for (const part of path.split('.')) {
    if (!isPlainObject(current)) return undefined
    current = current[part]
  }
  return current
}

function labelsOf(object: KubeObject): Record<string, string> {
  const labels = getPath(object, 'metadata.labels')
  const out: Record<string, string> = {}
  if (typeof labels === 'object' && labels !== null) {
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v
  }
  return out
}

function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i))
      start = i + 1
    }
  }
  out.push(s.slice(start))
  return out
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
