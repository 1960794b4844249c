import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createApprovalService, type ApprovalService } from '../../src/approvals/approval-service.js'
import type { AuditEvent } from '../../src/audit/audit-event.js'
import type { Principal } from '../../src/auth/principal.js'
import { createApprovalsCommand } from '../../src/cli/approvals-command.js'
import { startAdminServer, type AdminServer } from '../../src/cli/start-admin-server.js'
import { hashArgs } from '../../src/mcp/hash-args.js'
import type { Policy } from '../../src/policy/policy.js'
import { createMemoryApprovalStore } from '../../src/state/memory-approval-store.js'
import { setUp, type Fixture } from '../auth/verifier-fixture.js'
import { policyOf } from '../policy/policy-fixture.js'
import { alterTail } from '../support/alter.js'

// `airlock approvals` against a real admin listener on 127.0.0.1, tokens really signed by a local issuer.

const policy: Policy = policyOf({
  version: 1,
  grants: [{ id: 'restart', groups: ['sre'], tools: ['whoami'], approval: { approverGroups: ['sre-leads'] } }],
})

let fx: Fixture
let admin: AdminServer
let service: ApprovalService
const events: AuditEvent[] = []

before(async () => {
  fx = await setUp()
  service = createApprovalService({ store: createMemoryApprovalStore(), audit: { write: async (e) => void events.push(e) }, clock: fx.clock })
  admin = await startAdminServer('127.0.0.1', 0, {
    scrape: async () => ({ contentType: 'text/plain', text: '' }),
    readiness: async () => ({ ready: true, checks: {} }),
    logError: () => undefined,
    approvals: { service, policy: () => policy, authenticate: fx.verifier.verify, clock: fx.clock, logError: () => undefined },
  })
})

after(async () => {
  await admin.close()
  await fx.idp.stop()
})

function principal(subject: string, groups: string[]): Principal {
  return { issuer: fx.idp.issuer, subject, groups, expiresAt: fx.clock.now() / 1000 + 600 }
}

async function ask(deployment: string, who = principal('bob', ['sre'])): Promise<string> {
  const grant = policy.grants[0]
  assert.ok(grant !== undefined, 'the grant is built')
  const args = { deployment }
  const gate = await service.gate({ principal: who, policy, grant, tool: 'whoami', connection: undefined, argsHash: hashArgs(args), args, reason: 'crash loop', correlationId: 'c0ffee' })
  return gate.record.id
}

async function run(argv: string[], token: string | undefined): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await createApprovalsCommand()(argv, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    cwd: process.cwd(),
    env: { AIRLOCK_ADMIN_URL: admin.origin, ...(token === undefined ? {} : { AIRLOCK_TOKEN: token }) },
  })
  return { code, out, err }
}

const carol = () => fx.idp.mint({ sub: 'carol', groups: ['sre-leads'] })

describe('airlock approvals', () => {
  it('lists pending requests for an approver: who, what, why and time left', async () => {
    const id = await ask('payments')
    const listed = await run(['list'], await carol())
    assert.equal(listed.code, 0, listed.err)
    assert.match(listed.out, new RegExp(`^${id}: bob wants whoami \\{"deployment":"payments"\\} under grant restart \\(reason: "crash loop"; 10m00s left\\)\\n$`, 'm'))
  })

  it('approves with a reason, once; a second decision is refused as no longer pending', async () => {
    const id = await ask('checkout')
    const approved = await run(['approve', id, '--reason', 'pods checked'], await carol())
    assert.equal(approved.code, 0, approved.err)
    assert.match(approved.out, new RegExp(`^Approved: ${id}: bob wants whoami`))
    const record = events.find((e) => e.type === 'approval.approved' && e.detail?.requestId === id)
    assert.equal(record?.actor?.sub, 'carol')
    assert.equal(record?.actor?.iss, fx.idp.issuer)
    const again = await run(['deny', id, '--reason', 'changed my mind'], await carol())
    assert.deepEqual([again.code, again.err], [1, 'airlock approvals: refused (REQUEST_NOT_PENDING). This request is no longer pending (decided, used or expired).\n'])
  })

  it('takes the id after `--` too (an id that began with `-`, as older base64url ids could)', async () => {
    const id = await ask('after-dashes')
    const approved = await run(['approve', '--reason', 'checked', '--', id], await carol())
    assert.equal(approved.code, 0, approved.err)
    assert.match(approved.out, new RegExp(`^Approved: ${id}`))
    const dashed = await run(['deny', '--reason', 'x', '--', '-Kno-such-request'], await carol())
    assert.equal(dashed.code, 1, 'a dashed id reaches the service')
    assert.match(dashed.err, /REQUEST_NOT_FOUND/)
  })

  it('refuses self-approval, a non-approver, a missing or bad token, an unknown id and a missing reason', async () => {
    const id = await ask('search', principal('dana', ['sre', 'sre-leads']))
    const self = await run(['approve', id, '--reason', 'mine'], await fx.idp.mint({ sub: 'dana', groups: ['sre', 'sre-leads'] }))
    assert.deepEqual([self.code, self.err], [1, 'airlock approvals: refused (SELF_APPROVAL). Nobody may approve or deny their own request.\n'])
    const outsider = await run(['list'], await fx.idp.mint({ sub: 'mallory', groups: [] }))
    assert.deepEqual([outsider.code, outsider.err], [1, 'airlock approvals: refused (forbidden). You are not in any approver group.\n'])
    const requester = await run(['approve', id, '--reason', 'ok'], await fx.idp.mint({ sub: 'bob', groups: ['sre'] }))
    assert.equal(requester.code, 1, 'a requester is no approver')
    const forged = await run(['list'], alterTail(await carol(), 4))
    assert.deepEqual([forged.code, forged.err], [1, 'airlock approvals: refused (unauthorized). A valid bearer token from the gateway\'s identity provider is required.\n'])
    assert.equal((await run(['list'], undefined)).code, 2, 'no token, no call')
    const unknown = await run(['deny', 'no-such-request', '--reason', 'x'], await carol())
    assert.equal(unknown.code, 1)
    assert.match(unknown.err, /REQUEST_NOT_FOUND/)
    const noReason = await run(['approve', id], await carol())
    assert.deepEqual([noReason.code, noReason.err], [2, 'airlock approvals approve: --reason is required\n'])
    assert.equal((await run(['approve'], await carol())).code, 2)
    assert.equal((await run(['frobnicate'], await carol())).code, 2)
    assert.equal(events.filter((e) => e.detail?.requestId === id && e.type !== 'approval.requested').length, 0, 'no refusal changed the request')
  })

  it('answers the API directly: wrong methods, bodies without a reason, no token', async () => {
    const id = await ask('cart')
    const token = await carol()
    const get = await fetch(`${admin.origin}/approvals/requests/${id}/approve`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(get.status, 405)
    const post = (body: string) => fetch(`${admin.origin}/approvals/requests/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body })
    assert.equal((await post('{}')).status, 400)
    assert.equal((await post('not json')).status, 400)
    assert.equal((await post(JSON.stringify({ reason: '   ' }))).status, 400)
    assert.equal((await post(JSON.stringify({ reason: 'ok', extra: 1 }))).status, 400)
    const anonymous = await fetch(`${admin.origin}/approvals/requests`)
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
    assert.equal((await fetch(`${admin.origin}/approvals/other`)).status, 404)
    assert.equal((await post(JSON.stringify({ reason: 'ok' }))).status, 200)
  })
})
