import { AUTH_FAILURE_DESCRIPTIONS } from '../auth/challenge.js'
import type { AuthFailure } from '../errors.js'
import type { ProfileProbe, ProfileProbes } from './forge-profile-probes.js'
import { fail, pass, warn, type PostureCheck } from './posture-check.js'

/** Sends one token to the gateway; a string is why the request failed. */
export type SendToken = (token: string) => Promise<Response | string>

type Outcome =
  | { readonly kind: 'accepted'; readonly status: number }
  | { readonly kind: 'refused'; readonly status: number; readonly failure: AuthFailure | undefined }
  | { readonly kind: 'unanswered'; readonly reason: string }

function isAuthFailure(name: string): name is AuthFailure {
  return Object.hasOwn(AUTH_FAILURE_DESCRIPTIONS, name)
}

const FAILURE_BY_DESCRIPTION = new Map(Object.entries(AUTH_FAILURE_DESCRIPTIONS).flatMap(([failure, text]) => (isAuthFailure(failure) ? [[text, failure] as const] : [])))

/**
 * The failure class an Airlock challenge names, read back from its fixed `error_description`
 * (RFC 6750 §3); undefined for another server's wording or none.
 */
export function refusalClass(challenge: string | null): AuthFailure | undefined {
  const description = challenge === null ? undefined : /error_description="([^"]*)"/.exec(challenge)?.[1]
  return description === undefined ? undefined : FAILURE_BY_DESCRIPTION.get(description)
}

async function outcome(send: SendToken, token: string): Promise<Outcome> {
  const res = await send(token)
  if (typeof res === 'string') return { kind: 'unanswered', reason: `request failed (${res})` }
  await res.body?.cancel()
  if (res.status === 503) return { kind: 'unanswered', reason: 'HTTP 503' }
  // The gateway's limit on failed authentications per address: it did not look at this token.
  if (res.status === 429) return { kind: 'unanswered', reason: 'HTTP 429: this address is rate-limited for failed authentications; probe again in a minute' }
  if (res.status === 400 || res.status === 401 || res.status === 403) return { kind: 'refused', status: res.status, failure: refusalClass(res.headers.get('www-authenticate')) }
  return { kind: 'accepted', status: res.status }
}

type RunnableProbe = Exclude<ProfileProbe, { readonly skipped: unknown }>

function judge(probe: RunnableProbe, outcomes: readonly Outcome[]): PostureCheck {
  const { id, label } = probe
  const accepted = outcomes.find((o) => o.kind === 'accepted')
  if (accepted !== undefined && probe.whenAccepted === 'FAIL') return fail(id, `${label}: accepted (HTTP ${accepted.status}); ${probe.acceptedMeans}`)
  const signatureOnly = outcomes.some((o) => o.kind === 'refused' && o.failure === 'bad_signature')
  if (probe.signatureRefusalFails && signatureOnly) return fail(id, `${label}: refused only for the signature, so the header was accepted; ${probe.acceptedMeans}`)
  if (accepted !== undefined) return warn(id, `${label}: accepted (HTTP ${accepted.status}); ${probe.acceptedMeans}`)
  const unanswered = outcomes.find((o) => o.kind === 'unanswered')
  if (unanswered !== undefined) return warn(id, `${label}: ${unanswered.reason}; not probed`)
  const other = outcomes.find((o) => o.kind === 'refused' && (o.failure === undefined || !probe.expected.includes(o.failure)))
  if (other?.kind === 'refused') {
    const said = other.failure === undefined ? 'no recognisable error_description' : other.failure
    return warn(id, `${label}: refused, but as ${said}, not ${probe.expected.join(' or ')}; cannot confirm the check`)
  }
  const classes = [...new Set(outcomes.flatMap((o) => (o.kind === 'refused' && o.failure !== undefined ? [o.failure] : [])))]
  return pass(id, `${label}: refused (${classes.join(', ')})`)
}

/**
 * Sends the token-profile probes and reports one check per probe, plus the control token (when a
 * trusted key signed them) that must be accepted for refusals to mean anything. A refusal counts
 * only for the class it names: a token refused for something else is a WARN, never a PASS.
 */
export async function probeTokenProfile(send: SendToken, forged: ProfileProbes): Promise<PostureCheck[]> {
  const checks: PostureCheck[] = []
  if (forged.control !== undefined) {
    const control = await outcome(send, forged.control)
    if (control.kind === 'accepted') checks.push(pass('gateway.signing-key', `a conforming token signed with --signing-key is accepted (HTTP ${control.status})`))
    else {
      const why = control.kind === 'refused' ? `refused (${control.failure ?? `HTTP ${control.status}`})` : control.reason
      checks.push(fail('gateway.signing-key', `a conforming token signed with --signing-key was ${why}: is the key in the issuer's JWKS, and --token valid?`))
    }
  }
  for (const probe of forged.probes) {
    if ('skipped' in probe) {
      checks.push((probe.skipped === 'PASS' ? pass : warn)(probe.id, `${probe.label}: ${probe.reason}`))
      continue
    }
    const outcomes: Outcome[] = []
    for (const token of probe.tokens) outcomes.push(await outcome(send, token))
    checks.push(judge(probe, outcomes))
  }
  return checks
}
