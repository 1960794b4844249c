/** A response the stand-in sends: JSON object or plain text. */
export interface KubeResponse {
  readonly status: number
  readonly body: unknown
  readonly contentType?: string
}

const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  406: 'NotAcceptable', 409: 'Conflict', 410: 'Expired', 415: 'UnsupportedMediaType', 422: 'Invalid', 500: 'InternalError',
}

/** A `kind: Status` failure, as the Kubernetes API server returns it. */
export function statusFailure(code: number, message: string, details?: { name?: string; group?: string; kind?: string }): KubeResponse {
  return {
    status: code,
    body: {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown',
      ...(details === undefined ? {} : { details }), code,
    },
  }
}

export function json(body: unknown, status = 200): KubeResponse {
  return { status, body }
}

/** `pods "x" not found`, `deployments.apps "x" not found`. */
export function notFound(resource: string, group: string, name: string): KubeResponse {
  const qualified = group === '' ? resource : `${resource}.${group}`
  return statusFailure(404, `${qualified} "${name}" not found`, { name, ...(group === '' ? {} : { group }), kind: resource })
}

/** `pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "shop"`. */
export function forbidden(user: string, verb: string, resource: string, group: string, namespace: string | undefined, name?: string): KubeResponse {
  const [base = resource] = resource.split('/')
  const qualified = group === '' ? base : `${base}.${group}`
  const target = name === undefined ? '' : ` "${name}"`
  const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`
  return statusFailure(
    403,
    `${qualified}${target} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${where}`,
    { ...(name === undefined ? {} : { name }), ...(group === '' ? {} : { group }), kind: base },
  )
}
