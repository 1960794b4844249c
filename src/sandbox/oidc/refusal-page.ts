import type { ServerResponse } from 'node:http'

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

/**
 * The page shown when the dev IdP cannot send a refusal back to the client (unknown client, a
 * redirect URI it did not register, a metadata document it cannot use): the OAuth `error` and its
 * `error_description`, each in an element of its own so a person and a test can read them.
 */
export function refusalPage(error: string, description: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Airlock sandbox sign-in</title></head><body>
<h1>Sign-in refused</h1>
<p><code id="error">${escapeHtml(error)}</code>: <span id="error_description">${escapeHtml(description)}</span></p>
<p>Start again from your client.</p>
</body></html>`
}

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

/** Sends `refusalPage` with `status`. */
export function sendRefusal(res: ServerResponse, status: number, error: string, description: string): void {
  res.writeHead(status, PAGE_HEADERS)
  res.end(refusalPage(error, description))
}
