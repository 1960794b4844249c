/** One line of a verification report. WARN is reported but does not fail the run. */
export interface PostureCheck {
  /** Stable id, e.g. `agent-env`, `gateway.no-token`, `role-policy.wildcard-action`. */
  readonly id: string
  readonly status: 'PASS' | 'FAIL' | 'WARN'
  /** One human sentence; never a secret (values are masked). */
  readonly summary: string
  /** Where it was found or what was expected. */
  readonly where?: string
}

export const pass = (id: string, summary: string, where?: string): PostureCheck => ({ id, status: 'PASS', summary, ...(where === undefined ? {} : { where }) })
export const fail = (id: string, summary: string, where?: string): PostureCheck => ({ id, status: 'FAIL', summary, ...(where === undefined ? {} : { where }) })
export const warn = (id: string, summary: string, where?: string): PostureCheck => ({ id, status: 'WARN', summary, ...(where === undefined ? {} : { where }) })

/** Key ids keep their type prefix and last four (`AKIA…ABCD`); other secrets only their last four (`…wxyz`). */
export function maskSecret(value: string): string {
  const trimmed = value.trim()
  if (/^(AKIA|ASIA)[A-Z0-9]{16}$/.test(trimmed)) return `${trimmed.slice(0, 4)}…${trimmed.slice(-4)}`
  return trimmed.length >= 16 ? `…${trimmed.slice(-4)}` : '…'
}
