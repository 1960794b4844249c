import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Provider } from 'oidc-provider'
import { z } from 'zod'
import { DEV_IDENTITIES, DEV_IDENTITY_NAMES, isDevIdentity } from './dev-identities.js'
import { PAGE_HEADERS, sendRefusal } from './refusal-page.js'

const interactionSchema = z.looseObject({
  prompt: z.looseObject({
    name: z.string(),
    details: z
      .looseObject({
        missingOIDCScope: z.array(z.string()).optional(),
        missingOIDCClaims: z.array(z.string()).optional(),
        missingResourceScopes: z.record(z.string(), z.array(z.string())).optional(),
      })
      .optional(),
  }),
  params: z.looseObject({ client_id: z.string() }),
  grantId: z.string().optional(),
  session: z.looseObject({ accountId: z.string() }).optional(),
})

const PATH = /^\/interaction\/([A-Za-z0-9_-]{1,64})$/
const MAX_FORM_BYTES = 4096

/**
 * Handles the provider's interaction URLs: a login page where one picks alice, bob, carol or mallory
 * (no password: this is the sandbox), then an automatic consent to what the client asked for.
 * Returns false for any other path, which the provider then serves.
 */
export function createDevLoginHandler(provider: Provider): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async function devLogin(req, res) {
    const match = PATH.exec(new URL(req.url ?? '/', 'http://dev-idp').pathname)
    if (match === null) return false
    const uid = match[1] ?? ''
    try {
      const details = interactionSchema.parse(await provider.interactionDetails(req, res))
      if (req.method === 'GET' && details.prompt.name === 'login') {
        sendPage(res, 200, loginPage(uid))
      } else if (req.method === 'GET' && details.prompt.name === 'consent') {
        const grantId = await grantEverythingAsked(provider, details)
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
      } else if (req.method === 'POST' && details.prompt.name === 'login') {
        const user = new URLSearchParams(await readForm(req)).get('user') ?? ''
        if (user === 'cancel') {
          await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'sign-in cancelled' }, { mergeWithLastSubmission: false })
        } else if (isDevIdentity(user)) {
          await provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false })
        } else {
          sendRefusal(res, 400, 'invalid_request', `unknown user: pick ${DEV_IDENTITY_NAMES.join(', ')}`)
        }
      } else {
        sendRefusal(res, 405, 'invalid_request', `this sign-in step does not take ${req.method ?? 'that method'}`)
      }
    } catch {
      // Expired or missing interaction cookie, or a malformed form: start again from the client.
      if (!res.headersSent) sendRefusal(res, 400, 'invalid_request', 'this sign-in has expired or is invalid')
    }
    return true
  }
}

async function grantEverythingAsked(provider: Provider, details: z.infer<typeof interactionSchema>): Promise<string> {
  const accountId = details.session?.accountId
  if (accountId === undefined) throw new TypeError('consent without a signed-in account')
  const existing = details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)
  const grant = existing ?? new provider.Grant({ accountId, clientId: details.params.client_id })
  const asked = details.prompt.details
  if (asked?.missingOIDCScope !== undefined) grant.addOIDCScope(asked.missingOIDCScope.join(' '))
  if (asked?.missingOIDCClaims !== undefined) grant.addOIDCClaims(asked.missingOIDCClaims)
  for (const [resource, scopes] of Object.entries(asked?.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '))
  return grant.save()
}

async function readForm(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) {
    body += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk)
    if (body.length > MAX_FORM_BYTES) throw new TypeError('form too large')
  }
  return body
}

function loginPage(uid: string): string {
  const buttons = DEV_IDENTITY_NAMES.map((name) => {
    const groups = DEV_IDENTITIES[name].groups
    const label = groups.length === 0 ? 'no groups' : `groups: ${groups.join(', ')}`
    return `<p><button name="user" value="${name}">${name}</button> <small>${label}</small></p>`
  }).join('\n')
  return `<h1>Airlock sandbox sign-in</h1>
<p>Pick who you are. There is no password: this identity provider only exists in the sandbox.</p>
<form method="post" action="/interaction/${uid}">
${buttons}
<p><button name="user" value="cancel">Cancel</button></p>
</form>`
}

function sendPage(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, PAGE_HEADERS)
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Airlock sandbox sign-in</title></head><body>${body}</body></html>`)
}
