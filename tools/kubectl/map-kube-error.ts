import { ApiException } from '@kubernetes/client-node'
import { z } from 'zod'
import { AirlockError, UpstreamError, type UpstreamErrorCode } from '../../src/errors.js'

const statusBody = z.object({ kind: z.literal('Status'), message: z.string().max(2000).optional(), reason: z.string().optional() })

const BY_STATUS: Readonly<Record<number, UpstreamErrorCode>> = { 401: 'K8S_FORBIDDEN', 403: 'K8S_FORBIDDEN', 404: 'K8S_NOT_FOUND', 409: 'K8S_CONFLICT' }

/**
 * Maps a Kubernetes API failure to UpstreamError: 403 → K8S_FORBIDDEN, 404 → K8S_NOT_FOUND,
 * 409 → K8S_CONFLICT, 401 → K8S_FORBIDDEN (the cluster does not accept the gateway's identity),
 * anything else → K8S_ERROR. The API server's Status message (about the request, never a body of
 * data) is passed on as the public detail.
 */
export function mapKubeError(error: unknown, operation: string): AirlockError {
  if (error instanceof AirlockError) return error
  if (error instanceof ApiException) {
    const status = typeof error.code === 'number' ? error.code : 0
    const code = BY_STATUS[status] ?? 'K8S_ERROR'
    let detail: string | undefined
    if (typeof error.body === 'string') {
      try {
        const parsed = statusBody.safeParse(JSON.parse(error.body))
        if (parsed.success) detail = parsed.data.message
      } catch {
        detail = undefined
      }
    }
    // 401/403 texts name the gateway's IAM role, account and session: operators get them in the audit, agents a fixed sentence.
    const raw = detail
    if (status === 401) detail = 'The cluster did not authenticate the gateway (its IAM role is not mapped to a Kubernetes user, or its token was refused).'
    if (status === 403) detail = "The cluster's RBAC does not allow the gateway this operation."
    const message = `${operation} failed with HTTP ${status}${raw === undefined || (status !== 401 && status !== 403) ? '' : `: ${raw}`}`
    return new UpstreamError(code, message, { cause: error, ...(detail === undefined ? {} : { publicDetail: detail }) })
  }
  const name = error instanceof Error ? error.name : ''
  if (name === 'AbortError') return new UpstreamError('CANCELLED', `${operation} was cancelled`, { cause: error })
  return new UpstreamError('K8S_ERROR', `${operation} could not reach the cluster API`, { cause: error, publicDetail: 'The cluster API could not be reached.' })
}
