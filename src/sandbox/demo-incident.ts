/**
 * The one incident the sandbox tells, the same on every tool: the `payments` pod cannot log in to
 * its database and crash-loops, so web-1's nginx answers payment requests with 502 (its upstream
 * refuses connections) and the orders database records a burst of `payment_failed` orders. Every
 * emulator takes its times from here, so what one tool shows lines up with the others.
 */

const MIN = 60_000

/** The payments pod's address and port, as nginx names its upstream. */
export const PAYMENTS_UPSTREAM = 'http://10.0.2.117:8443/v1/charge'

/** How long before the sandbox started the first failing container run began. */
export const INCIDENT_LEAD_MS = 24 * MIN

/**
 * Start of each run of the payments container, oldest first, for a sandbox started at `now`: eight
 * runs three minutes apart (the last one `previous` to the current run), then the current run.
 */
export function paymentsRuns(now: number): number[] {
  const runs = Array.from({ length: 8 }, (_, k) => now - INCIDENT_LEAD_MS + k * 3 * MIN)
  return [...runs, now - 40_000]
}

/** Instants at which a payment request failed: two per container run (the upstream was down). */
export function failedPaymentTimes(now: number): number[] {
  return paymentsRuns(now).flatMap((start) => [start + 2_000, start + 9_000])
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const
const pad = (n: number) => String(n).padStart(2, '0')

/** nginx's error-log time: `2026/12/02 13:25:04`. */
function errorLogTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** nginx's access-log time: `02/Dec/2026:13:25:04 +0000`. */
function accessLogTime(ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? 'Jan'}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
}

/** An instance's nginx logs: web-1 proxies payments and shows the 502s; other instances only serve pages. */
export function nginxLogs(instanceName: string, now: number): { access: string; error: string } {
  const access: { at: number; line: string }[] = []
  const error: { at: number; line: string }[] = []
  const client = (i: number) => `10.0.3.${17 + (i % 5)}`
  // An hour of ordinary traffic, one request a minute.
  for (let i = 0; i < 60; i++) {
    const at = now - (60 - i) * MIN + 5_000
    access.push({ at, line: `${client(i)} - - [${accessLogTime(at)}] "GET /api/products?page=${(i % 4) + 1} HTTP/1.1" 200 ${2048 + i * 13} "-" "shop-web/1.14"` })
  }
  if (instanceName === 'web-1') {
    failedPaymentTimes(now).forEach((at, i) => {
      access.push({ at, line: `${client(i)} - - [${accessLogTime(at)}] "POST /api/payments HTTP/1.1" 502 157 "-" "shop-web/1.14"` })
      error.push({
        at,
        line:
          `${errorLogTime(at)} [error] 812#812: *${4100 + i} connect() failed (111: Connection refused) while connecting to upstream, ` +
          `client: ${client(i)}, server: shop.example.com, request: "POST /api/payments HTTP/1.1", upstream: "${PAYMENTS_UPSTREAM}", host: "shop.example.com"`,
      })
    })
  }
  error.push({ at: now - 90 * MIN, line: `${errorLogTime(now - 90 * MIN)} [notice] 811#811: signal process started` })
  const text = (lines: { at: number; line: string }[]) => lines.sort((a, b) => a.at - b.at).map((l) => `${l.line}\n`).join('')
  return { access: text(access), error: text(error) }
}

/** `YYYY-MM-DD HH:MM:SS`, UTC: how the orders database stores times. */
export function sqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}
