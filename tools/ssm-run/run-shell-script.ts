import { SendCommandCommand } from '@aws-sdk/client-ssm'

/** SendCommand's TimeoutSeconds (time to reach the instance) has a floor of 30 s. */
const MIN_DELIVERY_SECONDS = 30
/** How long past the execution timeout the gateway keeps polling before it gives up. */
const DEADLINE_SLACK_MS = 30_000

/** When a run that starts at `started` (ms) and may execute `timeoutSeconds` is given up on. */
export function runDeadline(started: number, timeoutSeconds: number): number {
  return started + timeoutSeconds * 1000 + DEADLINE_SLACK_MS
}

/** The SendCommand that runs `script` on one instance with AWS-RunShellScript, stopped after `timeoutSeconds`. */
export function runShellScript(instanceId: string, script: string, timeoutSeconds: number, comment?: string): SendCommandCommand {
  return new SendCommandCommand({
    DocumentName: 'AWS-RunShellScript',
    InstanceIds: [instanceId],
    TimeoutSeconds: Math.max(MIN_DELIVERY_SECONDS, timeoutSeconds),
    ...(comment === undefined ? {} : { Comment: comment }),
    Parameters: { commands: [script], executionTimeout: [String(timeoutSeconds)] },
  })
}
