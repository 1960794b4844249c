import type { RequestView } from '../../approvals/request-view.js'

/** HTML-escapes text for element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The stylesheet at /approvals/style.css (CSP `style-src 'self'`: no inline styles). */
export const APPROVALS_CSS = [
  'body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}',
  'article{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}',
  'pre{background:#f5f5f5;padding:.5rem;overflow:auto;white-space:pre-wrap}',
  'textarea{width:100%;min-height:3rem}',
  '.notice{background:#fff4d6;border:1px solid #e0b84c;padding:.5rem 1rem}',
  'dt{font-weight:600}',
].join('\n')

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/approvals/style.css"></head>
<body>${body}</body></html>`
}

function timeLeft(seconds: number): string {
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`
}

function decisionForm(view: RequestView, verdict: 'approve' | 'deny', csrf: string): string {
  const label = verdict === 'approve' ? 'Approve' : 'Deny'
  return `<form method="post" action="/approvals/decide">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<input type="hidden" name="id" value="${escapeHtml(view.id)}">
<input type="hidden" name="verdict" value="${verdict}">
<label>Reason to ${verdict}<textarea name="reason" required maxlength="500"></textarea></label>
<button type="submit">${label}</button></form>`
}

function requestArticle(view: RequestView, csrf: string): string {
  const who = view.requester.email === undefined ? view.requester.sub : `${view.requester.sub} (${view.requester.email})`
  return `<article data-request-id="${escapeHtml(view.id)}">
<h2>${escapeHtml(who)} wants ${escapeHtml(view.tool)}</h2>
<dl>
<dt>Where</dt><dd>${escapeHtml(view.connection ?? '(no connection)')}</dd>
<dt>Why</dt><dd>${escapeHtml(view.reason ?? 'no reason given')}</dd>
<dt>Arguments (redacted as in the audit)</dt><dd><pre>${escapeHtml(JSON.stringify(view.args, null, 2))}</pre></dd>
<dt>Approval buys</dt><dd>${view.use === 'once' ? 'one run of exactly this call' : 'a window for exactly this call'}</dd>
<dt>Time left</dt><dd>${timeLeft(view.secondsLeft)} (expires ${escapeHtml(view.pendingUntil)})</dd>
<dt>Request</dt><dd><code>${escapeHtml(view.id)}</code>, grant ${escapeHtml(view.grantId)}, issuer ${escapeHtml(view.requester.iss)}</dd>
</dl>
${decisionForm(view, 'approve', csrf)}
${decisionForm(view, 'deny', csrf)}
</article>`
}

export interface ListPageInput {
  readonly who: string
  readonly csrf: string
  readonly requests: readonly RequestView[]
  readonly notice: string | undefined
  /** False when the signed-in person holds no approver group at all. */
  readonly approver: boolean
}

/** The list of pending requests the signed-in approver may decide. */
export function listPage(input: ListPageInput): string {
  const notice = input.notice === undefined ? '' : `<p class="notice" role="status">${escapeHtml(input.notice)}</p>`
  const empty = input.approver ? 'No request is waiting for you.' : 'You are not in any approver group, so there is nothing for you to review.'
  const items = input.requests.length === 0 ? `<p>${empty}</p>` : input.requests.map((r) => requestArticle(r, input.csrf)).join('\n')
  return layout(
    'Airlock approvals',
    `<header><h1>Pending approvals</h1><p>Signed in as <strong>${escapeHtml(input.who)}</strong>.</p>
<form method="post" action="/approvals/sign-out"><input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}"><button type="submit">Sign out</button></form></header>
${notice}
<main>${items}</main>`,
  )
}

/** A plain message page (refusals, sign-in errors), with a way back. */
export function messagePage(title: string, text: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><p><a href="/approvals">Back to the approvals</a></p>`)
}

/**
 * Landing page after the callback: a same-origin navigation to the list, so the browser sends the
 * SameSite=Strict session cookie (it withholds it on the redirect chain that began at the IdP).
 */
export function continuePage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/approvals"><title>Signed in</title></head>
<body><p>Signed in. <a href="/approvals">Continue to the approvals</a>.</p></body></html>`
}
