import { z } from 'zod'
import { accessPeriod, accessPeriodText, decidingGrants } from './access-period.js'
import { defineTool } from './define-tool.js'

const iso = (ms: number) => new Date(ms).toISOString()

/** The caller's verified identity as Airlock sees it, when their token ends, and where each of their access periods stands. */
export default defineTool({
  name: 'whoami',
  title: 'Who am I',
  description:
    'Shows your identity as Airlock verified it (issuer, subject, groups), when your token expires, and for each of your grants ' +
    'when your access through it ends (or that it starts at your first call under it). Anyone signed in may call it, ' +
    'with or without grants.',
  connectionKinds: [],
  openToEveryone: true,
  input: {},
  output: {
    issuer: z.string(),
    subject: z.string(),
    groups: z.array(z.string()),
    email: z.string().optional(),
    name: z.string().optional(),
    tokenExpiresAt: z.string(),
    /** `auth_time`, else `iat`: what a new access period is measured against. */
    signedInAt: z.string().optional(),
    access: z.array(
      z.object({
        grantId: z.string(),
        status: z.enum(['active', 'ended', 'not_started']),
        endsAt: z.string().optional(),
        periodSeconds: z.number(),
      }),
    ),
  },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }),
  async handler({ principal, policy, deps, activations }) {
    const now = deps.clock.now()
    const grants = decidingGrants(policy, principal, now, deps.tools)
    const stored = await activations(grants.map((g) => g.id))
    const access = grants.map((grant) => ({ grantId: grant.id, ...accessPeriod(grant, stored.get(grant.id), now) }))
    const signIn = principal.authTime ?? principal.issuedAt
    const structured = {
      issuer: principal.issuer,
      subject: principal.subject,
      groups: [...principal.groups],
      ...(principal.email === undefined ? {} : { email: principal.email }),
      ...(principal.name === undefined ? {} : { name: principal.name }),
      tokenExpiresAt: iso(principal.expiresAt * 1000),
      ...(signIn === undefined ? {} : { signedInAt: iso(signIn * 1000) }),
      access,
    }
    const text = [
      `subject: ${structured.subject} (issuer ${structured.issuer})`,
      `groups: ${structured.groups.length > 0 ? structured.groups.join(', ') : '(none)'}`,
      ...(principal.email === undefined ? [] : [`email: ${principal.email}`]),
      `token expires: ${structured.tokenExpiresAt}`,
      ...(structured.signedInAt === undefined ? [] : [`signed in: ${structured.signedInAt}`]),
      ...(access.length === 0
        ? ['grants: none — you hold no grants, so whoami is the only tool you can call; ask your Airlock administrator for access']
        : access.map((period) => accessPeriodText(period, period.grantId))),
    ].join('\n')
    return { text, structured }
  },
})
