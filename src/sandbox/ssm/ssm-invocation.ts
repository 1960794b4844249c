import type { RunningScript } from './run-script.js'

export const PLUGIN_NAME = 'aws:runShellScript'
/** Limits of GetCommandInvocation's inline output, and the agent's markers when it cuts. */
export const STDOUT_LIMIT = 24_000
export const STDERR_LIMIT = 8_000
/** ListCommandInvocations' plugin `Output` (stdout and stderr combined). */
export const PLUGIN_OUTPUT_LIMIT = 2_500
export const OUTPUT_TRUNCATED = '\n---Output truncated---'
export const ERROR_TRUNCATED = '\n---Error truncated----'
const ERROR_HEADER = '\n----------ERROR-------\n'

export type InvocationStatus = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled'

export interface CommandRecord {
  readonly commandId: string
  readonly documentName: string
  readonly comment: string
  readonly parameters: Readonly<Record<string, readonly string[]>>
  readonly instanceIds: readonly string[]
  readonly targets: readonly { readonly Key: string; readonly Values: readonly string[] }[]
  readonly requestedAt: number
  readonly timeoutSeconds: number
  readonly maxConcurrency: string
  readonly maxErrors: string
  readonly invocations: Map<string, Invocation>
}

export interface Invocation {
  readonly commandId: string
  readonly instanceId: string
  status: InvocationStatus
  statusDetails: string
  /** False until the agent has picked it up (GetCommandInvocation answers InvocationDoesNotExist). */
  visible: boolean
  responseCode: number
  startedAt?: number
  endedAt?: number
  stdout: string
  stderr: string
  running?: RunningScript
}

export const TERMINAL: ReadonlySet<InvocationStatus> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled'])

/** Epoch seconds with milliseconds, as awsJson timestamps are serialised. */
export function epochSeconds(ms: number): number {
  return ms / 1000
}

/** Cuts `text` so that, with `marker` appended, it fits in `limit` characters (the agent's rule). */
export function truncate(text: string, limit: number, marker: string): { text: string; truncated: boolean } {
  if (text.length <= limit) return { text, truncated: false }
  return { text: text.slice(0, Math.max(0, limit - marker.length)) + marker, truncated: true }
}

function isoOrEmpty(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString()
}

function elapsed(inv: Invocation): string {
  if (inv.startedAt === undefined) return ''
  return `PT${(((inv.endedAt ?? inv.startedAt) - inv.startedAt) / 1000).toFixed(3)}S`
}

const noNotification = { NotificationArn: '', NotificationEvents: [], NotificationType: '' }
const noCloudWatch = { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false }

/** A command's overall status from its invocations'. */
function aggregateStatus(invocations: readonly Invocation[]): InvocationStatus {
  // Targets that matched nothing: SSM reports the command as finished with TargetCount 0.
  if (invocations.length === 0) return 'Success'
  if (invocations.every((i) => i.status === 'Pending')) return 'Pending'
  if (invocations.some((i) => !TERMINAL.has(i.status))) return 'InProgress'
  for (const status of ['Cancelled', 'TimedOut', 'Failed'] as const) {
    if (invocations.some((i) => i.status === status)) return status
  }
  return 'Success'
}

/** Command as SendCommand and ListCommands return it. */
export function renderCommand(cmd: CommandRecord, region: string): Record<string, unknown> {
  const invocations = [...cmd.invocations.values()]
  const done = invocations.filter((i) => TERMINAL.has(i.status))
  const aggregate = aggregateStatus(invocations)
  return {
    CommandId: cmd.commandId,
    DocumentName: cmd.documentName,
    DocumentVersion: '$DEFAULT',
    Comment: cmd.comment,
    ExpiresAfter: epochSeconds(cmd.requestedAt + cmd.timeoutSeconds * 1000),
    Parameters: cmd.parameters,
    InstanceIds: cmd.instanceIds,
    Targets: cmd.targets,
    RequestedDateTime: epochSeconds(cmd.requestedAt),
    Status: aggregate,
    StatusDetails: aggregate,
    OutputS3Region: region,
    OutputS3BucketName: '',
    OutputS3KeyPrefix: '',
    MaxConcurrency: cmd.maxConcurrency,
    MaxErrors: cmd.maxErrors,
    TargetCount: invocations.length,
    CompletedCount: done.length,
    ErrorCount: done.filter((i) => i.status !== 'Success').length,
    DeliveryTimedOutCount: 0,
    ServiceRole: '',
    NotificationConfig: noNotification,
    CloudWatchOutputConfig: noCloudWatch,
    TimeoutSeconds: cmd.timeoutSeconds,
  }
}

/** GetCommandInvocation's result. */
export function renderInvocation(cmd: CommandRecord, inv: Invocation): Record<string, unknown> {
  return {
    CommandId: cmd.commandId,
    InstanceId: inv.instanceId,
    Comment: cmd.comment,
    DocumentName: cmd.documentName,
    DocumentVersion: '$DEFAULT',
    PluginName: PLUGIN_NAME,
    ResponseCode: inv.responseCode,
    ExecutionStartDateTime: isoOrEmpty(inv.startedAt),
    ExecutionElapsedTime: elapsed(inv),
    ExecutionEndDateTime: isoOrEmpty(inv.endedAt),
    Status: inv.status,
    StatusDetails: inv.statusDetails,
    StandardOutputContent: truncate(inv.stdout, STDOUT_LIMIT, OUTPUT_TRUNCATED).text,
    StandardOutputUrl: '',
    StandardErrorContent: truncate(inv.stderr, STDERR_LIMIT, ERROR_TRUNCATED).text,
    StandardErrorUrl: '',
    CloudWatchOutputConfig: noCloudWatch,
  }
}

function pluginOutput(inv: Invocation): string {
  const half = PLUGIN_OUTPUT_LIMIT / 2
  if (inv.stderr === '') return truncate(inv.stdout, PLUGIN_OUTPUT_LIMIT, OUTPUT_TRUNCATED).text
  const err = truncate(inv.stderr, inv.stdout === '' ? PLUGIN_OUTPUT_LIMIT - ERROR_HEADER.length : half - ERROR_HEADER.length, ERROR_TRUNCATED).text
  const out = truncate(inv.stdout, PLUGIN_OUTPUT_LIMIT - ERROR_HEADER.length - err.length, OUTPUT_TRUNCATED).text
  return `${out}${ERROR_HEADER}${err}`
}

/** One entry of ListCommandInvocations. */
export function renderListedInvocation(cmd: CommandRecord, inv: Invocation, instanceName: string, details: boolean): Record<string, unknown> {
  return {
    CommandId: cmd.commandId,
    InstanceId: inv.instanceId,
    InstanceName: instanceName,
    Comment: cmd.comment,
    DocumentName: cmd.documentName,
    DocumentVersion: '$DEFAULT',
    RequestedDateTime: epochSeconds(cmd.requestedAt),
    Status: inv.status,
    StatusDetails: inv.statusDetails,
    TraceOutput: '',
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    CommandPlugins: details
      ? [
          {
            Name: PLUGIN_NAME,
            Status: inv.status,
            StatusDetails: inv.statusDetails,
            ResponseCode: inv.responseCode,
            ...(inv.startedAt === undefined ? {} : { ResponseStartDateTime: epochSeconds(inv.startedAt) }),
            ...(inv.endedAt === undefined ? {} : { ResponseFinishDateTime: epochSeconds(inv.endedAt) }),
            Output: pluginOutput(inv),
            StandardOutputUrl: '',
            StandardErrorUrl: '',
            OutputS3Region: '',
            OutputS3BucketName: '',
            OutputS3KeyPrefix: '',
          },
        ]
      : [],
    ServiceRole: '',
    NotificationConfig: noNotification,
    CloudWatchOutputConfig: noCloudWatch,
  }
}
