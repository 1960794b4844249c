import { z } from 'zod'
import { defineTool } from './define-tool.js'

const iso = (ms: number) => new Date(ms).toISOString()

/** The caller's verified identity as Airlock sees it, and when their session and token end. */
export default defineTool({
  name: 'whoami',
  title: 'Who am I',
  description: 'Shows your identity as Airlock verified it (issuer, subject, groups), and when your token and session expire.',
  connectionKinds: [],
  input: {},
  output: {
    issuer: z.string(),
    subject: z.string(),
    groups: z.array(z.string()),
    email: z.string().optional(),
    name: z.string().optional(),
    tokenExpiresAt: z.string(),
    sessionExpiresAt: z.string(),
  },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }),
  async handler({ principal, session }) {
    const structured = {
      issuer: principal.issuer,
      subject: principal.subject,
      groups: [...principal.groups],
      ...(principal.email === undefined ? {} : { email: principal.email }),
      ...(principal.name === undefined ? {} : { name: principal.name }),
      tokenExpiresAt: iso(principal.expiresAt * 1000),
      sessionExpiresAt: iso(session.expiresAt),
    }
    const text = [
      `subject: ${structured.subject} (issuer ${structured.issuer})`,
      `groups: ${structured.groups.length > 0 ? structured.groups.join(', ') : '(none)'}`,
      ...(principal.email === undefined ? [] : [`email: ${principal.email}`]),
      `token expires: ${structured.tokenExpiresAt}`,
      `session expires: ${structured.sessionExpiresAt}`,
    ].join('\n')
    return { text, structured }
  },
})
