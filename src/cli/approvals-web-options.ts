import type { ApprovalService } from '../approvals/approval-service.js'
import type { ApprovalsWebOptions } from '../admin/approvals-web/approvals-web.js'
import { createOidcSignIn } from '../admin/approvals-web/oidc-sign-in.js'
import { createWebSessions } from '../admin/approvals-web/web-sessions.js'
import type { KeyResolver } from '../auth/jwks-cache.js'
import type { Principal } from '../auth/principal.js'
import type { Clock } from '../clock.js'
import type { GatewayConfig } from '../config.js'
import type { Policy } from '../policy/policy.js'

export interface ApprovalsWebDeps {
  readonly config: GatewayConfig
  /** Read from `approvals.web.clientSecretFile` before anything started. */
  readonly clientSecret: string | undefined
  readonly audience: string
  readonly verify: (authorization: string) => Promise<Principal>
  readonly keys: KeyResolver
  readonly allowInsecureLoopback: boolean
  readonly service: ApprovalService
  readonly policy: () => Policy
  readonly clock: Clock
  readonly logError: (message: string, error: unknown) => void
}

/** The web page's wiring from `approvals.web`; undefined when it is not configured. */
export function approvalsWebOptions(deps: ApprovalsWebDeps): ApprovalsWebOptions | undefined {
  const web = deps.config.approvals.web
  if (web === undefined) return undefined
  const signIn = createOidcSignIn({
    issuer: deps.config.issuer,
    clientId: web.clientId,
    ...(deps.clientSecret === undefined ? {} : { clientSecret: deps.clientSecret }),
    redirectUrl: web.redirectUrl,
    resource: deps.audience,
    scopes: web.scopes,
    verify: deps.verify,
    keys: deps.keys,
    algorithms: deps.config.algorithms,
    clockToleranceSeconds: deps.config.clockToleranceSeconds,
    clock: deps.clock,
    allowInsecureLoopback: deps.allowInsecureLoopback,
  })
  return {
    service: deps.service,
    policy: deps.policy,
    signIn,
    sessions: createWebSessions({ clock: deps.clock, lifetimeMs: web.sessionMinutes * 60_000 }),
    redirectUrl: web.redirectUrl,
    clock: deps.clock,
    logError: deps.logError,
  }
}
