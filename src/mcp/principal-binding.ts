import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { Principal } from '../auth/principal.js'
import { AuthError } from '../errors.js'

/**
 * Carries the principal verified for an HTTP request to the MCP handlers of that request. The SDK
 * passes `authInfo` through by reference, so a WeakMap keyed by it needs no token in AuthInfo.
 */
export interface PrincipalBinding {
  attach(principal: Principal, resource: URL): AuthInfo
  resolve(extra: { authInfo?: unknown }): Principal
}

export function createPrincipalBinding(): PrincipalBinding {
  const principals = new WeakMap<object, Principal>()
  return {
    attach(principal, resource) {
      const authInfo: AuthInfo = { token: '', clientId: principal.subject, scopes: [], expiresAt: principal.expiresAt, resource }
      principals.set(authInfo, principal)
      return authInfo
    },
    resolve(extra) {
      const principal = typeof extra.authInfo === 'object' && extra.authInfo !== null ? principals.get(extra.authInfo) : undefined
      // Unreachable through the gateway (every /mcp request is authenticated first); fail closed anyway.
      if (principal === undefined) throw new AuthError('AUTH_MISSING', 'missing', 'MCP request without a verified principal')
      return principal
    },
  }
}
