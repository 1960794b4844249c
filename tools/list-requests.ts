import { z } from 'zod'
import { PolicyError } from '../src/errors.js'
import { requestLine, requestView } from '../src/approvals/request-view.js'
import { defineTool } from './define-tool.js'

const requestShape = z.object({
  id: z.string(),
  state: z.string(),
  requester: z.object({ iss: z.string(), sub: z.string(), email: z.string().optional() }),
  tool: z.string(),
  connection: z.string().optional(),
  grantId: z.string(),
  args: z.record(z.string(), z.unknown()),
  argsHash: z.string(),
  reason: z.string().optional(),
  use: z.enum(['once', 'window']),
  approverGroups: z.array(z.string()),
  createdAt: z.string(),
  pendingUntil: z.string(),
  secondsLeft: z.number(),
})

/** Pending approval requests the caller may decide (listed only to members of an approver group). */
export default defineTool({
  name: 'list_requests',
  title: 'List approval requests',
  description:
    'Lists pending approval requests you may approve or deny: who asks, which tool on which connection with which arguments ' +
    '(redacted as in the audit), why, and how long until each expires. Show them to your human; only they decide.',
  connectionKinds: [],
  input: {},
  output: { requests: z.array(requestShape) },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }),
  async handler({ principal, policy, deps, approvals }) {
    if (approvals === undefined) throw new PolicyError('POLICY_DENIED', 'Approvals are not available on this gateway.')
    const now = deps.clock.now()
    const views = (await approvals.list(principal, policy)).map((r) => requestView(r, now))
    const text = views.length === 0 ? 'No pending requests for you to review.' : views.map(requestLine).join('\n')
    return { text, structured: { requests: views.map((v) => ({ ...v, approverGroups: [...v.approverGroups] })) } }
  },
})
