import { isSecureUrl } from './secure-url.js'

/** OAuth 2.0 Protected Resource Metadata (RFC 9728 §2). */
export interface ProtectedResourceMetadata {
  readonly resource: string
  readonly authorization_servers: readonly string[]
  readonly bearer_methods_supported: readonly ['header']
  readonly scopes_supported: readonly string[]
  readonly resource_name?: string
}

export interface ProtectedResourceMetadataOptions {
  /** This resource's identifier, e.g. `https://airlock.example.com/mcp`. */
  readonly resource: string
  /** Issuer identifiers of the authorization servers whose tokens are accepted. */
  readonly authorizationServers: readonly string[]
  readonly scopesSupported: readonly string[]
  readonly resourceName?: string
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource'

/**
 * Parses a resource identifier: https (http only to a loopback host), no fragment (RFC 9728 §1.2).
 * Throws `TypeError`.
 */
function parseResource(resource: string): URL {
  let url: URL
  try {
    url = new URL(resource)
  } catch {
    throw new TypeError('resource must be an absolute URL')
  }
  if (!isSecureUrl(url, true) || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError('resource must be an https URL without fragment or credentials')
  }
  return url
}

/**
 * Builds the RFC 9728 §2 metadata document; only the `Authorization` header is accepted for
 * tokens (RFC 6750 §2.1). `offline_access` is never listed: refresh tokens are between the client
 * and the authorization server, and MCP 2026-07-28 says a resource must not advertise it.
 * Throws `TypeError` for an invalid resource or empty server list.
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  parseResource(options.resource)
  if (options.authorizationServers.length === 0) throw new TypeError('authorizationServers must not be empty')
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: ['header'],
    scopes_supported: options.scopesSupported.filter((scope) => scope !== 'offline_access'),
    ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
  }
}

export interface ProtectedResourceMetadataLocation {
  /** Absolute URL to advertise in `resource_metadata` (RFC 9728 §3.1 path-inserted form). */
  readonly url: string
  /**
   * Paths to serve the document on: the path-inserted form first, then the bare well-known
   * path when it differs (clients that ignore the resource path look there).
   */
  readonly paths: readonly string[]
}

/**
 * Where the metadata for `resource` lives: `/.well-known/oauth-protected-resource` inserted
 * between the host and the resource's path and query, terminating slash removed (RFC 9728 §3.1).
 * `https://a.example/mcp` → `https://a.example/.well-known/oauth-protected-resource/mcp`.
 * Throws `TypeError` for an invalid resource.
 */
export function protectedResourceMetadataLocation(resource: string): ProtectedResourceMetadataLocation {
  const url = parseResource(resource)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  const inserted = `${WELL_KNOWN}${path}`
  return {
    url: `${url.origin}${inserted}${url.search}`,
    paths: inserted === WELL_KNOWN ? [WELL_KNOWN] : [inserted, WELL_KNOWN],
  }
}
