/** One readiness verdict; `reason` is a fixed snake_case code (never internal detail). */
export type ReadinessResult = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/**
 * Port: one thing the gateway cannot serve without (policy, issuer keys, audit sink, state
 * store…). `name` is a fixed snake_case word; `check` must not throw, but a throw reads as not ready.
 */
export interface ReadinessCheck {
  readonly name: string
  check(): Promise<ReadinessResult>
}

export interface ReadinessReport {
  readonly ready: boolean
  readonly checks: Readonly<Record<string, ReadinessResult>>
}

/** A check that answers slower than this counts as failed (`timeout`): a hung backend is not ready. */
export const DEFAULT_READINESS_TIMEOUT_MS = 2_000

const CODE = /^[a-z][a-z0-9_]{0,63}$/

function settle(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, reason: 'timeout' }), timeoutMs)
    const done = (result: ReadinessResult) => {
      clearTimeout(timer)
      resolve(result)
    }
    let pending: Promise<ReadinessResult>
    try {
      pending = check.check()
    } catch {
      return done({ ok: false, reason: 'check_failed' })
    }
    pending.then(
      (result) => done(result.ok ? { ok: true } : { ok: false, reason: CODE.test(result.reason) ? result.reason : 'unavailable' }),
      () => done({ ok: false, reason: 'check_failed' }),
    )
  })
}

/**
 * Runs every check at once, each bounded by `timeoutMs`; ready only when all pass. Throws
 * TypeError for a name that is not a snake_case word or appears twice (a wiring mistake).
 */
export async function runReadinessChecks(checks: readonly ReadinessCheck[], timeoutMs = DEFAULT_READINESS_TIMEOUT_MS): Promise<ReadinessReport> {
  const names = new Set<string>()
  for (const { name } of checks) {
    if (!CODE.test(name) || names.has(name)) throw new TypeError(`readiness check name ${JSON.stringify(name)} is not a unique snake_case word`)
    names.add(name)
  }
  const results = await Promise.all(checks.map((check) => settle(check, timeoutMs)))
  return {
    ready: results.every((result) => result.ok),
    checks: Object.fromEntries(checks.map((check, index) => [check.name, results[index] ?? { ok: false, reason: 'check_failed' }])),
  }
}
