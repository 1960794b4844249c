// The oidc-provider package ships no type declarations; this covers the surface the dev IdP uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    readonly issuer: string
    proxy: boolean
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    on(event: string, listener: (...args: unknown[]) => void): this
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<unknown>
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<string>
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>
    readonly Grant: OidcGrantModel
    readonly Client: OidcClientModel
  }

  export interface OidcClientModel {
    readonly adapter: {
      upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void>
      destroy(id: string): Promise<void>
    }
    find(id: string): Promise<unknown>
  }

  export interface OidcGrantModel {
    new (properties: { accountId: string; clientId: string }): OidcGrant
    find(id: string): Promise<OidcGrant | undefined>
  }

  export interface OidcGrant {
    readonly accountId: string
    readonly clientId: string
    addOIDCScope(scope: string): void
    addOIDCClaims(claims: readonly string[]): void
    addResourceScope(resource: string, scope: string): void
    save(): Promise<string>
  }

  export const errors: {
    readonly InvalidTarget: new (description?: string) => Error
    readonly InvalidScope: new (description: string, scope: string) => Error
    readonly InvalidRequest: new (description?: string) => Error
  }

  export default Provider
}
