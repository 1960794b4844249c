/** The verified identity behind a request, derived from the agent's OIDC access token. */
export interface Principal {
  readonly issuer: string
  readonly subject: string
  readonly groups: readonly string[]
  readonly email?: string
  readonly name?: string
  /** Token expiry, epoch seconds. */
  readonly expiresAt: number
  /** Token `iat`, epoch seconds, when the issuer sets one (where a stateless request's grant ttl starts). */
  readonly issuedAt?: number
  /**
   * OAuth scopes the token grants (`scope`/`scp` claims), when it carries either claim; absent
   * reads as no scope at all (a tool that needs one is refused).
   */
  readonly scopes?: readonly string[]
  /** `jti`, when the issuer sets one (audit correlation only). */
  readonly tokenId?: string
}
