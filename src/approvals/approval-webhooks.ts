import { createHmac } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { ApprovalRecord } from '../state/approval-store.js'
import type { ApprovalNotifier } from './approval-service.js'
import { requestView } from './request-view.js'

/** One approver group's webhook: requests that group may approve are posted here, signed with `secret`. */
export interface ApprovalWebhook {
  readonly group: string
  readonly url: string
  readonly secret: string
}

export interface WebhookRetry {
  /** Tries in all, the first included. */
  readonly attempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** Each try's time limit. */
  readonly timeoutMs: number
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetry = { attempts: 6, baseDelayMs: 1_000, maxDelayMs: 60_000, timeoutMs: 5_000 }

export interface WebhookNotifierOptions {
  readonly hooks: readonly ApprovalWebhook[]
  readonly clock: Clock
  readonly fetch?: typeof fetch
  readonly sleep?: (ms: number) => Promise<void>
  readonly retry?: WebhookRetry
  /** A delivery given up after its last try (the request itself is unaffected). */
  readonly logError: (message: string, error: unknown, fields?: Record<string, unknown>) => void
}

export interface WebhookNotifier {
  readonly notify: ApprovalNotifier
  /** Resolves when every delivery started so far has succeeded or been given up (tests, shutdown). */
  idle(): Promise<void>
}

/** The signature header's value: `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` under the hook's secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`
}

/** The JSON posted for a new request; `text` is what Slack-compatible receivers show. */
export function webhookPayload(record: ApprovalRecord, now: number): Record<string, unknown> {
  const view = requestView(record, now)
  const where = view.connection === undefined ? '' : ` on ${view.connection}`
  const why = view.reason === undefined ? '' : ` Reason: ${JSON.stringify(view.reason)}.`
  return {
    type: 'approval.requested',
    request: view,
    text:
      `${view.requester.sub} asks ${view.approverGroups.join(' or ')} to approve ${view.tool}${where} ${JSON.stringify(view.args)} (grant ${view.grantId}).${why} ` +
      `Request ${view.id} expires at ${utc(record.pendingUntil)}; review it with \`airlock approvals list\`.`,
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

/**
 * Posts each new request to the webhooks of its approver groups, in the background: a failed try
 * is retried with exponential backoff (and jitter), and a delivery that never succeeds is logged.
 * Nothing here blocks or fails the request: it is stored and decidable before any delivery starts.
 */
export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const fetchFn = options.fetch ?? fetch
  const sleep = options.sleep ?? realSleep
  const retry = options.retry ?? DEFAULT_WEBHOOK_RETRY
  const inFlight = new Set<Promise<void>>()

  async function deliver(hook: ApprovalWebhook, body: string, requestId: string): Promise<void> {
    let last: unknown
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      const timestamp = String(Math.floor(options.clock.now() / 1000))
      try {
        const response = await fetchFn(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-airlock-timestamp': timestamp, 'x-airlock-signature': webhookSignature(hook.secret, timestamp, body) },
          body,
          signal: AbortSignal.timeout(retry.timeoutMs),
          redirect: 'error',
        })
        await response.body?.cancel()
        if (response.ok) return
        last = new Error(`webhook answered HTTP ${response.status}`)
      } catch (error) {
        last = error
      }
      if (attempt < retry.attempts) {
        const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1))
        await sleep(Math.round(delay / 2 + Math.random() * (delay / 2)))
      }
    }
    options.logError(`approval webhook for group ${hook.group} gave up after ${retry.attempts} tries`, last, { requestId, group: hook.group })
  }

  return {
    notify(record) {
      const hooks = options.hooks.filter((h) => record.approverGroups.includes(h.group))
      if (hooks.length === 0) return
      const body = JSON.stringify(webhookPayload(record, options.clock.now()))
      for (const hook of hooks) {
        const delivery = deliver(hook, body, record.id).finally(() => inFlight.delete(delivery))
        inFlight.add(delivery)
      }
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight])
    },
  }
}
