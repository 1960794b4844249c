import type { ConnectionKind, NamedConnection } from './connection-schema.js'
import { EVERYONE_GRANT } from './everyone-grant.js'
import { grantIsExpired, grantNeedsApproval, grantTtlSeconds, type PolicyIdentity } from './grant-matches.js'
import { identityGrants } from './identity-grants.js'
import type { Policy, PolicyGrant } from './policy.js'

/** Why a request was denied; stable strings, recorded in the audit trail. */
export type DenyReason =
  | 'NO_GRANT'
  | 'CONNECTION_REQUIRED'
  | 'CONNECTION_NOT_EXPECTED'
  | 'UNKNOWN_CONNECTION'
  | 'CONNECTION_NOT_GRANTED'
  | 'WRONG_CONNECTION_KIND'
  | 'GRANT_EXPIRED'
  | 'APPROVAL_REQUIRED'

export interface AccessRequest {
  readonly tool: string
  /** The kinds the tool serves; empty for tools that take no connection. */
  readonly connectionKinds: readonly ConnectionKind[]
  /** The connection id the caller named, if any. */
  readonly connection?: string | undefined
  /**
   * The tool only shows callers their own identity (whoami): any authenticated caller may call it,
   * under their own grant if one lists it, else under the built-in {@link EVERYONE_GRANT}.
   */
  readonly openToEveryone?: boolean | undefined
}

export type Decision =
  | {
      readonly allow: true
      readonly grantId: string
      readonly grant: PolicyGrant
      readonly connection: NamedConnection | undefined
      /** How long a session may rely on this grant: its ttl, capped at its `notAfter`. */
      readonly ttlSeconds: number
    }
  | {
      readonly allow: false
      readonly reason: Exclude<DenyReason, 'APPROVAL_REQUIRED'>
      /** One sentence safe to show the caller: it names only the tool, the connection id they gave and their own grant. */
      readonly message: string
      readonly grantId?: string
    }
  | {
      /** Only a human approval of this very call, under `grant`, lets it run. */
      readonly allow: false
      readonly reason: 'APPROVAL_REQUIRED'
      readonly message: string
      readonly grantId: string
      readonly grant: PolicyGrant
      readonly connection: NamedConnection | undefined
    }

/**
 * Decides one tool call; deny by default. A grant applies when it matches the identity (a shared
 * group or the exact subject), lists the tool, lists the named connection (of a kind the tool
 * serves; tools without connection kinds take none), and is before its `notAfter`. The first
 * applicable grant in policy order wins: files in the order given, grants in file order. Grants
 * with `approval` never allow by themselves: when nothing else allows, the first of them answers
 * APPROVAL_REQUIRED with the grant, and the call runs only once a human approved it.
 * A tool open to everyone that no usable grant allows is allowed under the built-in EVERYONE_GRANT
 * (unless the call names a connection).
 */
export function evaluate(policy: Policy, principal: PolicyIdentity, request: AccessRequest, nowMs: number): Decision {
  const decision = evaluateGrants(policy, principal, request, nowMs)
  if (decision.allow || request.openToEveryone !== true || request.connectionKinds.length > 0 || request.connection !== undefined) return decision
  return { allow: true, grantId: EVERYONE_GRANT.id, grant: EVERYONE_GRANT, connection: undefined, ttlSeconds: EVERYONE_GRANT.ttl }
}

function evaluateGrants(policy: Policy, principal: PolicyIdentity, request: AccessRequest, nowMs: number): Decision {
  const { tool } = request
  const mine = identityGrants(policy, principal)
  const toolGrants = mine.forTool(tool)
  if (toolGrants.length === 0) return deny('NO_GRANT', `You have no grant for tool ${tool}.`)

  let candidates: readonly PolicyGrant[]
  let connection: NamedConnection | undefined
  if (request.connectionKinds.length === 0) {
    if (request.connection !== undefined) {
      return deny('CONNECTION_NOT_EXPECTED', `Tool ${tool} takes no connection.`)
    }
    candidates = toolGrants
  } else {
    if (request.connection === undefined || request.connection === '') {
      return deny('CONNECTION_REQUIRED', `Tool ${tool} needs a connection.`)
    }
    const id = request.connection
    // Unknown and not-granted read the same to the caller, so ids cannot be probed for existence.
    const notGranted = `Connection ${JSON.stringify(id)} is unknown or not granted to you for ${tool}.`
    connection = policy.connections.get(id)
    if (connection === undefined) return deny('UNKNOWN_CONNECTION', notGranted)
    if (!request.connectionKinds.includes(connection.kind)) {
      const grantedElsewhere = mine.all.some((g) => g.connections.includes(id))
      return grantedElsewhere
        ? deny('WRONG_CONNECTION_KIND', `Connection ${JSON.stringify(id)} is not one tool ${tool} can use.`)
        : deny('CONNECTION_NOT_GRANTED', notGranted)
    }
    candidates = toolGrants.filter((g) => g.connections.includes(id))
    if (candidates.length === 0) return deny('CONNECTION_NOT_GRANTED', notGranted)
  }

  const live = candidates.filter((g) => !grantIsExpired(g, nowMs))
  const expired = candidates[0]
  if (live.length === 0 && expired !== undefined) {
    return deny('GRANT_EXPIRED', `Your grant ${JSON.stringify(expired.id)} for ${tool} has expired.`, expired.id)
  }
  const usable = live.find((g) => !grantNeedsApproval(g))
  if (usable !== undefined) {
    return { allow: true, grantId: usable.id, grant: usable, connection, ttlSeconds: grantTtlSeconds(usable, nowMs) }
  }
  const pending = live[0]
  if (pending === undefined) return deny('NO_GRANT', `You have no grant for tool ${tool}.`)
  return {
    allow: false,
    reason: 'APPROVAL_REQUIRED',
    message: `Tool ${tool} needs approval under grant ${JSON.stringify(pending.id)}.`,
    grantId: pending.id,
    grant: pending,
    connection,
  }
}

/**
 * The caller's first live approval grant for this tool and connection, whether or not another
 * grant allows the call outright (the call path asks it when that grant's constraints refuse the
 * arguments). Undefined when there is none or the connection is unknown.
 */
export function approvalGrantFor(policy: Policy, principal: PolicyIdentity, request: AccessRequest, nowMs: number): { readonly grant: PolicyGrant; readonly connection: NamedConnection | undefined } | undefined {
  const connection = request.connection === undefined ? undefined : policy.connections.get(request.connection)
  if (request.connectionKinds.length > 0 && (connection === undefined || !request.connectionKinds.includes(connection.kind))) return undefined
  const grant = identityGrants(policy, principal)
    .forTool(request.tool)
    .find(
      (g) =>
        grantNeedsApproval(g) &&
        !grantIsExpired(g, nowMs) &&
        (connection === undefined ? request.connectionKinds.length === 0 : g.connections.includes(connection.id)),
    )
  return grant === undefined ? undefined : { grant, connection }
}

function deny(reason: Exclude<DenyReason, 'APPROVAL_REQUIRED'>, message: string, grantId?: string): Decision {
  return grantId === undefined ? { allow: false, reason, message } : { allow: false, reason, message, grantId }
}
