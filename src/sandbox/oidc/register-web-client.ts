import { z } from 'zod'

const discoverySchema = z.looseObject({ registration_endpoint: z.string() })
const registeredSchema = z.looseObject({ client_id: z.string().min(1) })

/**
 * Registers the gateway's approvals page at the dev IdP (RFC 7591): a public web client with
 * exactly `redirectUrl`, authorization code + PKCE only. Returns its client id.
 */
export async function registerWebClient(issuer: string, redirectUrl: string): Promise<string> {
  const discovery = discoverySchema.parse(await (await fetch(`${issuer}/.well-known/openid-configuration`)).json())
  const response = await fetch(discovery.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Airlock approvals',
      application_type: 'web',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  })
  const body: unknown = await response.json()
  if (response.status !== 201) throw new Error(`the dev IdP refused the approvals client: ${JSON.stringify(body)}`)
  return registeredSchema.parse(body).client_id
}
