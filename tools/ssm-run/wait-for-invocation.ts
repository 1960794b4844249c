import { setTimeout as sleep } from 'node:timers/promises'
import { CancelCommandCommand, GetCommandInvocationCommand, type GetCommandInvocationCommandOutput, type SSMClient } from '@aws-sdk/client-ssm'
import { CLEANUP_TIMEOUT_MS, sendBounded } from '../../src/aws/bounded-send.js'
import type { Clock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import type { ProgressUpdate } from '../define-tool.js'
import { awsErrorName, mapSsmError } from './map-ssm-error.js'

const FIRST_DELAY_MS = 100
const MAX_DELAY_MS = 1000
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled'])
/** Poll failures that say nothing about the command; the next poll may well succeed. */
const TRANSIENT = new Set(['AWS_THROTTLED', 'AWS_UNAVAILABLE', 'AWS_TIMEOUT'])

export interface WaitOptions {
  readonly ssm: SSMClient
  readonly commandId: string
  readonly instanceId: string
  readonly clock: Clock
  /** Epoch ms after which the gateway stops waiting, cancels and reports COMMAND_TIMED_OUT. */
  readonly deadline: number
  readonly signal: AbortSignal
  readonly progress: (update: ProgressUpdate) => Promise<void>
}

/** Best effort, on its own short deadline: the caller is told the outcome either way. */
async function cancel(ssm: SSMClient, commandId: string, instanceId: string): Promise<void> {
  await sendBounded((options) => ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }), options), {
    label: 'CancelCommand',
    signal: undefined,
    timeoutMs: CLEANUP_TIMEOUT_MS,
    httpTimeoutMs: CLEANUP_TIMEOUT_MS,
  }).catch(() => undefined)
}

/**
 * Polls GetCommandInvocation with backoff (100 ms doubling to 1 s) until the invocation ends.
 * Each poll is bounded by the caller's signal and the deadline. InvocationDoesNotExist right
 * after SendCommand is normal (delivery lag), and a poll that fails in passing (throttled,
 * unavailable, no answer) is retried: reading is safe to repeat.
 * @throws UpstreamError CANCELLED (after CancelCommand) when `signal` aborts; COMMAND_TIMED_OUT
 *   (after CancelCommand) when the deadline passes; other UpstreamErrors from the API.
 */
export async function waitForInvocation(options: WaitOptions): Promise<GetCommandInvocationCommandOutput> {
  const { ssm, commandId, instanceId, clock } = options
  const cancelled = async (): Promise<never> => {
    await cancel(ssm, commandId, instanceId)
    throw new UpstreamError('CANCELLED', `ssm_run cancelled by the caller; CancelCommand sent for ${commandId}`)
  }
  let delay = FIRST_DELAY_MS
  let polls = 0
  let status = 'Pending'
  for (;;) {
    try {
      await sleep(Math.min(delay, Math.max(0, options.deadline - clock.now())), undefined, { signal: options.signal })
    } catch {
      return cancelled()
    }
    delay = Math.min(delay * 2, MAX_DELAY_MS)
    polls++
    try {
      const out = await sendBounded((o) => ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }), o), {
        label: 'GetCommandInvocation',
        signal: options.signal,
        timeoutMs: options.deadline - clock.now(),
      })
      status = out.Status ?? 'Pending'
      if (TERMINAL.has(status)) return out
    } catch (error) {
      if (options.signal.aborted) return cancelled()
      if (awsErrorName(error) !== 'InvocationDoesNotExist') {
        const mapped = mapSsmError(error, 'GetCommandInvocation')
        if (!TRANSIENT.has(mapped.code)) throw mapped
      }
    }
    if (clock.now() >= options.deadline) {
      await cancel(ssm, commandId, instanceId)
      throw new UpstreamError('COMMAND_TIMED_OUT', `no result for ${commandId} before the gateway's deadline (last status ${status})`)
    }
    await options.progress({ progress: polls, message: `${instanceId}: ${status}` }).catch(() => undefined)
  }
}
