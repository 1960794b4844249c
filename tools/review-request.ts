import { z } from 'zod'
import { PolicyError } from '../src/errors.js'
import { requestLine, requestView } from '../src/approvals/request-view.js'
import { defineTool } from './define-tool.js'

/** Approves or denies one request, with the reviewer's reason (listed only to members of an approver group). */
export default defineTool({
  name: 'review_request',
  title: 'Approve or deny a request',
  description:
    'Approves or denies one pending approval request, with a reason. Only do this with the decision and reason your human gave: ' +
    'the audit records them as theirs. Nobody may decide their own request, and you must be in one of its approver groups now.',
  connectionKinds: [],
  input: {
    id: z.string().min(1).max(64).describe('The request id from list_requests.'),
    decision: z.enum(['approve', 'deny']),
    reason: z.string().min(1).max(500).describe('Why, in the reviewer\'s words; recorded in the audit and shown to the requester on a denial.'),
  },
  output: { id: z.string(), state: z.string(), accessUntil: z.string().optional() },
  annotations: () => ({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }),
  async handler({ principal, policy, deps, approvals, args }) {
    if (approvals === undefined) throw new PolicyError('POLICY_DENIED', 'Approvals are not available on this gateway.')
    const record = await approvals.decide(principal, policy, args.id, args.decision, args.reason)
    const view = requestView(record, deps.clock.now())
    return {
      text: `${args.decision === 'approve' ? 'Approved' : 'Denied'}: ${requestLine(view)}`,
      structured: { id: view.id, state: view.state, ...(view.accessUntil === undefined ? {} : { accessUntil: view.accessUntil }) },
      audit: { requestId: record.id, decision: args.decision },
    }
  },
})
