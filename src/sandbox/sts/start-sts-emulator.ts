import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '../../clock.js'
import { readBody, sendJson, sendText, startHttpServer } from '../emulator-http.js'
import type { CredentialStore, SandboxCredential } from '../sigv4/credential-store.js'
import { mapSigV4Failure } from '../sigv4/sigv4-failure.js'
import { verifyPresignedUrl, verifySigV4 } from '../sigv4/verify-sigv4.js'
import type { Trail } from '../trail.js'
import { assumeRole, assumeRoleWithWebIdentity, getCallerIdentity, type StsOutcome } from './sts-actions.js'
import { stsFault, type StsFault } from './sts-fault.js'
import { stsRoleSchema, type StsRole } from './sts-roles.js'
import { stsErrorXml, stsResponseXml } from './sts-xml.js'
import { createWebIdentityVerifier, isStsFault, type OidcProviderConfig } from './verify-web-identity.js'

export interface StsEmulatorOptions {
  readonly store: CredentialStore
  readonly trail: Trail
  readonly clock: Clock
  readonly roles: readonly StsRole[]
  readonly oidcProviders: readonly OidcProviderConfig[]
  /** The account the emulator plays; reported for callers whose ARN names none. */
  readonly accountId: string
  /** Region recorded for unsigned calls; signed calls record their credential scope's region. */
  readonly region?: string
  readonly port?: number
}

export interface StsEmulator {
  /** Base URL, for `AWS_ENDPOINT_URL_STS` or an STSClient `endpoint`. */
  readonly endpoint: string
  close(): Promise<void>
}

const MAX_BODY = 64 * 1024

interface Authenticated {
  readonly credential: SandboxCredential
  readonly region: string
}

/**
 * Starts the STS emulator (awsQuery over HTTP on 127.0.0.1): AssumeRoleWithWebIdentity against
 * the configured OIDC providers, SigV4-signed AssumeRole and GetCallerIdentity. Issued temporary
 * credentials go into `store`, so every emulator accepts them and attributes calls to the session.
 * @throws TypeError when a role is misconfigured.
 * https://docs.aws.amazon.com/STS/latest/APIReference/welcome.html
 */
export async function startStsEmulator(options: StsEmulatorOptions): Promise<StsEmulator> {
  for (const role of options.roles) {
    const checked = stsRoleSchema.safeParse(role)
    if (!checked.success) throw new TypeError(`STS role ${role.roleArn}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  const deps = {
    store: options.store,
    clock: options.clock,
    roles: options.roles,
    verifyWebIdentity: createWebIdentityVerifier({ providers: options.oidcProviders, clock: options.clock }),
  }
  const defaultRegion = options.region ?? 'us-east-1'

  function authenticate(req: IncomingMessage, body: Uint8Array): Authenticated | StsFault {
    const rawUrl = req.url ?? '/'
    const url = new URL(rawUrl, 'http://sts.local')
    const result = url.searchParams.has('X-Amz-Algorithm')
      ? verifyPresignedUrl(url, plainHeaders(req), { store: options.store, service: 'sts', method: req.method ?? 'GET', clock: options.clock })
      : verifySigV4({ method: req.method ?? 'POST', rawUrl, headers: req.headers, body }, { store: options.store, service: 'sts', clock: options.clock })
    if (!result.ok) {
      const mapped = mapSigV4Failure(result, 'awsQuery')
      return { status: mapped.status, code: mapped.code, message: mapped.message }
    }
    return { credential: result.credential, region: result.region }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID()
    const wantsJson = (req.headers.accept ?? '').includes('application/json')
    const reply = (action: string, outcome: StsOutcome | StsFault, who: Authenticated | undefined, principal?: string): void => {
      options.trail.record({
        service: 'sts',
        action,
        region: who?.region ?? defaultRegion,
        accessKeyId: who?.credential.accessKeyId ?? '',
        principalArn: who?.credential.principalArn ?? principal ?? (isStsFault(outcome) ? '' : String(outcome.trail['principalArn'] ?? '')),
        ...(who?.credential.sourceIdentity === undefined ? {} : { sourceIdentity: who.credential.sourceIdentity }),
        outcome: isStsFault(outcome) ? outcome.code : 'ok',
        ...(isStsFault(outcome) ? {} : { detail: outcome.trail }),
      })
      // AWS stamps responses with its own time; the SDK corrects its clock skew from this header.
      const headers = { 'x-amzn-requestid': requestId, date: new Date(options.clock.now()).toUTCString() }
      if (isStsFault(outcome)) {
        if (wantsJson) sendJson(res, outcome.status, { Error: { Type: 'Sender', Code: outcome.code, Message: outcome.message }, RequestId: requestId }, headers)
        else sendText(res, outcome.status, stsErrorXml(outcome, requestId), 'text/xml', headers)
        return
      }
      if (wantsJson) {
        sendJson(res, 200, { [`${action}Response`]: { [`${action}Result`]: outcome.result, ResponseMetadata: { RequestId: requestId } } }, headers)
      } else {
        sendText(res, 200, stsResponseXml(action, outcome.result, requestId), 'text/xml', headers)
      }
    }

    if (req.method !== 'POST' && req.method !== 'GET') {
      reply('Unknown', stsFault('MethodNotAllowed', 'The request method is not supported.'), undefined)
      return
    }
    let body: Uint8Array
    try {
      body = await readBody(req, MAX_BODY)
    } catch {
      reply('Unknown', stsFault('RequestEntityTooLarge', 'Request body too large.'), undefined)
      return
    }
    const params = requestParams(req, body)
    if (isStsFault(params)) {
      reply('Unknown', params, undefined)
      return
    }
    const action = params.get('Action') ?? ''
    if (action === 'AssumeRoleWithWebIdentity') {
      reply(action, await assumeRoleWithWebIdentity(deps, params), undefined)
      return
    }
    if (action !== 'AssumeRole' && action !== 'GetCallerIdentity') {
      reply(action || 'Unknown', stsFault('InvalidAction', `Could not find operation ${action} for version 2011-06-15`), undefined)
      return
    }
    const who = authenticate(req, body)
    if (isStsFault(who)) {
      reply(action, who, undefined)
      return
    }
    if (action === 'AssumeRole') {
      reply(action, assumeRole(deps, params, who.credential), who)
      return
    }
    reply(action, { result: getCallerIdentity(who.credential, options.accountId), trail: {} }, who)
  }

  const server = await startHttpServer(handle, options.port === undefined ? {} : { port: options.port })
  return { endpoint: server.url, close: () => server.close() }
}

/** Query string plus a form body; a repeated parameter is refused rather than guessed at. */
function requestParams(req: IncomingMessage, body: Uint8Array): ReadonlyMap<string, string> | StsFault {
  const out = new Map<string, string>()
  const sources = [new URL(req.url ?? '/', 'http://sts.local').searchParams]
  const type = req.headers['content-type'] ?? ''
  if (body.byteLength > 0) {
    if (!type.startsWith('application/x-www-form-urlencoded')) return stsFault('ValidationError', 'Expected a form-encoded request body.')
    sources.push(new URLSearchParams(Buffer.from(body).toString('utf8')))
  }
  for (const source of sources) {
    for (const [key, value] of source) {
      if (out.has(key)) return stsFault('ValidationError', `Parameter ${key} was given more than once.`)
      out.set(key, value)
    }
  }
  return out
}

function plainHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') out[name] = value
    else if (Array.isArray(value)) out[name] = value.join(',')
  }
  return out
}
