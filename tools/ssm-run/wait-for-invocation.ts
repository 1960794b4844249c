import { setTimeout as sleep } from 'node:timers/promises'
import { CancelCommandCommand, GetCommandInvocationCommand, type GetCommandInvocationCommandOutput, type SSMClient } from '@aws-sdk/client-ssm'
import type { Clock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import type { ProgressUpdate } from '../define-tool.js'
import { awsErrorName, mapSsmError } from './map-ssm-error.js'

const FIRST_DELAY_MS = 100
const MAX_DELAY_MS = 1000
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled'])

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

async function cancel(ssm: SSMClient, commandId: string, instanceId: string): Promise<void> {
  try {
    await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }))
  } catch {
    // Best effort: the caller is told the call was cancelled either way.
  }
}

/**
 * Polls GetCommandInvocation with backoff (100 ms doubling to 1 s) until the invocation ends.
 * InvocationDoesNotExist right after SendCommand is normal (delivery lag) and retried.
 * @throws UpstreamError CANCELLED (after CancelCommand) when `signal` aborts; COMMAND_TIMED_OUT
 *   when the deadline passes; other UpstreamErrors from the API.
 */
export async function waitForInvocation(options: WaitOptions): Promise<GetCommandInvocationCommandOutput> {
  const { ssm, commandId, instanceId } = options
  let delay = FIRST_DELAY_MS
  let polls = 0
  for (;;) {
    try {
      await sleep(delay, undefined, { signal: options.signal })
    } catch {
      await cancel(ssm, commandId, instanceId)
      throw new UpstreamError('CANCELLED', `ssm_run cancelled by the caller; CancelCommand sent for ${commandId}`)
    }
    delay = Math.min(delay * 2, MAX_DELAY_MS)
    polls++
    let status = 'Pending'
    try {
      const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
      status = out.Status ?? 'Pending'
      if (TERMINAL.has(status)) return out
    } catch (error) {
      if (awsErrorName(error) !== 'InvocationDoesNotExist') throw mapSsmError(error, 'GetCommandInvocation')
    }
    if (options.clock.now() > options.deadline) {
      await cancel(ssm, commandId, instanceId)
      throw new UpstreamError('COMMAND_TIMED_OUT', `no result for ${commandId} before the gateway's deadline (last status ${status})`)
    }
    await options.progress({ progress: polls, message: `${instanceId}: ${status}` }).catch(() => undefined)
  }
}
