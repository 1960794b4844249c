/** The verified identity behind a request, derived from the agent's OIDC access token. */
export interface Principal {
  readonly issuer: string
  readonly subject: string
  readonly groups: readonly string[]
  readonly email?: string
  readonly name?: string
  /** Token expiry, epoch seconds. */
  readonly expiresAt: number
  /** Token `iat`, epoch seconds, when the issuer sets one. */
  readonly issuedAt?: number
  /**
   * OAuth scopes the token grants (`scope`/`scp` claims), when it carries either claim; absent
   * reads as no scope at all (a tool that needs one is refused).
   */
  readonly scopes?: readonly string[]
  /**
   * `auth_time`, epoch seconds: when the person (or agent) last signed in at the IdP. A refreshed
   * token keeps it; a new sign-in moves it. Starting a new grant period needs a sign-in later than
   * the end of the last one (`auth_time`, else `iat`).
   */
  readonly authTime?: number
  /** `jti`, when the issuer sets one (audit correlation only). */
  readonly tokenId?: string
}
