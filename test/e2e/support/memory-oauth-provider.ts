import type { OAuthClientMetadata, OAuthClientProvider, OAuthDiscoveryState, StoredOAuthClientInformation, StoredOAuthTokens } from '@modelcontextprotocol/client'

/**
 * The smallest OAuth client provider an application writes for the SDK: everything in memory,
 * client metadata left to the SDK's defaults apart from a name and the loopback redirect URI, and
 * the authorization URL handed to `onRedirect` (where a browser would be opened).
 */
export class MemoryOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl: string
  readonly clientMetadata: OAuthClientMetadata
  readonly redirects: URL[] = []
  private client: StoredOAuthClientInformation | undefined
  private saved: StoredOAuthTokens | undefined
  private verifier: string | undefined
  private discovery: OAuthDiscoveryState | undefined

  constructor(redirectUrl: string, extra: Partial<OAuthClientMetadata> = {}) {
    this.redirectUrl = redirectUrl
    this.clientMetadata = { client_name: 'Airlock e2e client', redirect_uris: [redirectUrl], ...extra }
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.client
  }
  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.client = info
  }
  tokens(): StoredOAuthTokens | undefined {
    return this.saved
  }
  saveTokens(tokens: StoredOAuthTokens): void {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL): void {
    this.redirects.push(url)
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier
  }
  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no code verifier saved')
    return this.verifier
  }
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state
  }
  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery
  }
}
