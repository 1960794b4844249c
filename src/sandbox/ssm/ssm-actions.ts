import { randomUUID } from 'node:crypto'
import type { Clock } from '../../clock.js'
import type { SandboxCredential } from '../sigv4/credential-store.js'
import { runScript } from './run-script.js'
import { ssmFault, type SsmFault } from './ssm-fault.js'
import { filterInstances, type FleetInstance } from './ssm-fleet.js'
import {
  PLUGIN_NAME,
  TERMINAL,
  epochSeconds,
  renderCommand,
  renderInvocation,
  renderListedInvocation,
  type CommandRecord,
  type Invocation,
} from './ssm-invocation.js'
import {
  cancelCommandRequestSchema,
  describeInstanceInformationRequestSchema,
  getCommandInvocationRequestSchema,
  listCommandInvocationsRequestSchema,
  sendCommandRequestSchema,
} from './ssm-requests.js'

export interface ExecutionRecord {
  readonly instanceId: string
  readonly commandId: string
  readonly script: string
  readonly principalArn: string
  readonly sourceIdentity?: string
}

export interface SsmState {
  readonly clock: Clock
  readonly fleet: ReadonlyMap<string, FleetInstance>
  readonly commands: Map<string, CommandRecord>
  readonly executions: ExecutionRecord[]
  /** Delay before an invocation is delivered (GetCommandInvocation says InvocationDoesNotExist until then). */
  readonly deliveryDelayMs: number
  /** Pending deliveries, cleared on close. */
  readonly timers: Set<NodeJS.Timeout>
  /** The bubblewrap executable every instance's scripts run under. */
  readonly bwrap: string
  /** Host system directories bound read-only into each instance (see hostSystemLayout). */
  readonly systemDirs: readonly string[]
}

export interface SsmCall {
  readonly body: unknown
  readonly credential: SandboxCredential
  readonly region: string
}

/** Result body plus facts for the trail. */
export interface SsmOutcome {
  readonly result: Record<string, unknown>
  readonly trail: Record<string, unknown>
}

const DOCUMENT = 'AWS-RunShellScript'
const KNOWN_PARAMETERS = new Set(['commands', 'executionTimeout', 'workingDirectory'])
const MAX_EXECUTION_TIMEOUT = 172_800

function invalidInput(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): SsmFault {
  const first = error.issues[0]
  const where = first === undefined ? '' : first.path.map(String).join('.')
  return ssmFault('ValidationException', `1 validation error detected: Value at '${where}' failed to satisfy constraint: ${first?.message ?? 'invalid'}`)
}

function resolveTargets(state: SsmState, targets: readonly { Key: string; Values: readonly string[] }[]): string[] | SsmFault {
  const ids = new Set<string>()
  for (const target of targets) {
    const key = target.Key === 'InstanceIds' || target.Key === 'instanceids' ? 'InstanceIds' : target.Key
    if (key !== 'InstanceIds' && !key.startsWith('tag:')) return ssmFault('InvalidTarget', `Target key ${target.Key} is not supported.`)
    const found = filterInstances(state.fleet, { Filters: [{ Key: key, Values: [...target.Values] }] })
    if (!Array.isArray(found)) return found
    for (const instance of found) if (instance.online) ids.add(instance.instanceId)
  }
  return [...ids]
}

function startInvocation(state: SsmState, cmd: CommandRecord, inv: Invocation, call: SsmCall, executionTimeout: number): void {
  const instance = state.fleet.get(inv.instanceId)
  if (instance === undefined || inv.status !== 'Pending') return
  inv.visible = true
  const script = (cmd.parameters['commands'] ?? []).join('\n')
  state.executions.push({
    instanceId: inv.instanceId,
    commandId: cmd.commandId,
    script,
    principalArn: call.credential.principalArn,
    ...(call.credential.sourceIdentity === undefined ? {} : { sourceIdentity: call.credential.sourceIdentity }),
  })
  inv.status = 'InProgress'
  inv.statusDetails = 'InProgress'
  inv.startedAt = state.clock.now()
  const running = runScript({
    script,
    sandbox: { root: instance.dir, hostname: instance.name, systemDirs: state.systemDirs, bwrap: state.bwrap },
    timeoutSeconds: executionTimeout,
  })
  inv.running = running
  void running.done.then((outcome) => {
    inv.endedAt = state.clock.now()
    inv.stdout = outcome.stdout
    inv.stderr = outcome.stderr
    inv.responseCode = outcome.ending === 'cancelled' ? -1 : outcome.exitCode
    delete inv.running
    if (outcome.ending === 'timedOut') {
      inv.status = 'TimedOut'
      inv.statusDetails = 'ExecutionTimedOut'
    } else if (outcome.ending === 'cancelled') {
      inv.status = 'Cancelled'
      inv.statusDetails = 'Cancelled'
    } else {
      inv.status = outcome.exitCode === 0 ? 'Success' : 'Failed'
      inv.statusDetails = inv.status
    }
  })
}

/** SendCommand for AWS-RunShellScript: validates like SSM, then delivers to each online instance. */
export function sendCommand(state: SsmState, call: SsmCall): SsmOutcome | SsmFault {
  const parsed = sendCommandRequestSchema.safeParse(call.body)
  if (!parsed.success) return invalidInput(parsed.error)
  const req = parsed.data
  if (req.DocumentName !== DOCUMENT) return ssmFault('InvalidDocument', `Document ${req.DocumentName} does not exist in your account.`)
  const parameters = req.Parameters ?? {}
  for (const key of Object.keys(parameters)) {
    if (!KNOWN_PARAMETERS.has(key)) return ssmFault('InvalidParameters', `Parameter "${key}" is not defined in the document.`)
  }
  const commands = parameters['commands']
  if (commands === undefined || commands.length === 0) return ssmFault('InvalidParameters', 'Parameter "commands" is required.')
  if (parameters['workingDirectory'] !== undefined) {
    return ssmFault('InvalidParameters', 'workingDirectory is not supported by the sandbox.')
  }
  const timeoutText = parameters['executionTimeout']?.[0] ?? '3600'
  const executionTimeout = /^\d{1,6}$/.test(timeoutText) ? Number(timeoutText) : Number.NaN
  if (!(executionTimeout >= 1 && executionTimeout <= MAX_EXECUTION_TIMEOUT) || (parameters['executionTimeout']?.length ?? 1) !== 1) {
    return ssmFault('InvalidParameters', 'Parameter "executionTimeout" must be a number of seconds between 1 and 172800.')
  }
  const hasIds = (req.InstanceIds?.length ?? 0) > 0
  const hasTargets = (req.Targets?.length ?? 0) > 0
  if (hasIds === hasTargets) return ssmFault('ValidationException', 'Specify either InstanceIds or Targets.')
  for (const id of req.InstanceIds ?? []) {
    const instance = state.fleet.get(id)
    if (instance === undefined || !instance.online) return ssmFault('InvalidInstanceId', 'Instances not in a valid state for account.')
  }
  const instanceIds = hasIds ? [...new Set(req.InstanceIds)] : resolveTargets(state, req.Targets ?? [])
  if (!Array.isArray(instanceIds)) return instanceIds

  const cmd: CommandRecord = {
    commandId: randomUUID(),
    documentName: DOCUMENT,
    comment: req.Comment ?? '',
    // Echoed as sent, like SSM; the document's defaults are not filled in.
    parameters: { ...parameters },
    instanceIds: hasIds ? instanceIds : [],
    targets: req.Targets ?? [],
    requestedAt: state.clock.now(),
    timeoutSeconds: req.TimeoutSeconds ?? 3600,
    maxConcurrency: req.MaxConcurrency ?? '50',
    maxErrors: req.MaxErrors ?? '0',
    invocations: new Map(),
  }
  for (const instanceId of instanceIds) {
    const inv: Invocation = { commandId: cmd.commandId, instanceId, status: 'Pending', statusDetails: 'Pending', visible: false, responseCode: -1, stdout: '', stderr: '' }
    cmd.invocations.set(instanceId, inv)
    const timer = setTimeout(() => {
      state.timers.delete(timer)
      startInvocation(state, cmd, inv, call, executionTimeout)
    }, state.deliveryDelayMs)
    state.timers.add(timer)
  }
  state.commands.set(cmd.commandId, cmd)
  return {
    result: { Command: renderCommand(cmd, call.region) },
    trail: { commandId: cmd.commandId, instanceIds, documentName: DOCUMENT, comment: cmd.comment },
  }
}

export function getCommandInvocation(state: SsmState, call: SsmCall): SsmOutcome | SsmFault {
  const parsed = getCommandInvocationRequestSchema.safeParse(call.body)
  if (!parsed.success) return invalidInput(parsed.error)
  const { CommandId, InstanceId, PluginName } = parsed.data
  if (PluginName !== undefined && PluginName !== PLUGIN_NAME) return ssmFault('InvalidPluginName', 'The plugin name is not valid.')
  const cmd = state.commands.get(CommandId)
  const inv = cmd?.invocations.get(InstanceId)
  if (cmd === undefined || inv === undefined || !inv.visible) {
    return ssmFault('InvocationDoesNotExist', 'The command ID and instance ID you specified did not match any invocations.')
  }
  return { result: renderInvocation(cmd, inv), trail: { commandId: CommandId, instanceId: InstanceId, status: inv.status } }
}

function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64')
}

function readToken(token: string | undefined): number | SsmFault {
  if (token === undefined) return 0
  const match = /^\{"offset":(\d{1,6})\}$/.exec(Buffer.from(token, 'base64').toString('utf8'))
  return match === null ? ssmFault('InvalidNextToken', 'The specified token is not valid.') : Number(match[1])
}

export function listCommandInvocations(state: SsmState, call: SsmCall): SsmOutcome | SsmFault {
  const parsed = listCommandInvocationsRequestSchema.safeParse(call.body)
  if (!parsed.success) return invalidInput(parsed.error)
  const req = parsed.data
  if ((req.Filters?.length ?? 0) > 0) return ssmFault('InvalidFilterKey', 'Filters are not supported by the sandbox.')
  const offset = readToken(req.NextToken)
  if (typeof offset !== 'number') return offset
  const rows: Record<string, unknown>[] = []
  const commands = [...state.commands.values()].sort((a, b) => b.requestedAt - a.requestedAt)
  for (const cmd of commands) {
    if (req.CommandId !== undefined && cmd.commandId !== req.CommandId) continue
    for (const inv of cmd.invocations.values()) {
      if (req.InstanceId !== undefined && inv.instanceId !== req.InstanceId) continue
      const name = state.fleet.get(inv.instanceId)?.name ?? ''
      rows.push(renderListedInvocation(cmd, inv, name === '' ? '' : `${name}.ec2.internal`, req.Details === true))
    }
  }
  const max = req.MaxResults ?? 50
  const page = rows.slice(offset, offset + max)
  return {
    result: { CommandInvocations: page, ...(offset + max < rows.length ? { NextToken: pageToken(offset + max) } : {}) },
    trail: { ...(req.CommandId === undefined ? {} : { commandId: req.CommandId }), count: page.length },
  }
}

export function cancelCommand(state: SsmState, call: SsmCall): SsmOutcome | SsmFault {
  const parsed = cancelCommandRequestSchema.safeParse(call.body)
  if (!parsed.success) return invalidInput(parsed.error)
  const cmd = state.commands.get(parsed.data.CommandId)
  if (cmd === undefined) return ssmFault('InvalidCommandId', 'The specified command ID is not valid.')
  const only = parsed.data.InstanceIds
  for (const inv of cmd.invocations.values()) {
    if (only !== undefined && only.length > 0 && !only.includes(inv.instanceId)) continue
    if (TERMINAL.has(inv.status)) continue
    if (inv.running !== undefined) {
      inv.running.cancel()
    } else {
      inv.status = 'Cancelled'
      inv.statusDetails = 'Cancelled'
      inv.visible = true
      inv.endedAt = state.clock.now()
    }
  }
  return { result: {}, trail: { commandId: cmd.commandId } }
}

export function describeInstanceInformation(state: SsmState, call: SsmCall): SsmOutcome | SsmFault {
  const parsed = describeInstanceInformationRequestSchema.safeParse(call.body)
  if (!parsed.success) return invalidInput(parsed.error)
  const found = filterInstances(state.fleet, parsed.data)
  if (!Array.isArray(found)) return found
  const offset = readToken(parsed.data.NextToken)
  if (typeof offset !== 'number') return offset
  const max = parsed.data.MaxResults ?? 50
  const now = epochSeconds(state.clock.now())
  const page = found.slice(offset, offset + max).map((i) => ({
    InstanceId: i.instanceId,
    PingStatus: i.online ? 'Online' : 'ConnectionLost',
    LastPingDateTime: now,
    AgentVersion: '3.3.0.0',
    IsLatestVersion: true,
    PlatformType: 'Linux',
    PlatformName: 'Amazon Linux',
    PlatformVersion: '2023',
    ResourceType: 'EC2Instance',
    IPAddress: i.ipAddress,
    ComputerName: `${i.name}.ec2.internal`,
    SourceId: i.instanceId,
    SourceType: 'AWS::EC2::Instance',
  }))
  return {
    result: { InstanceInformationList: page, ...(offset + max < found.length ? { NextToken: pageToken(offset + max) } : {}) },
    trail: { count: page.length },
  }
}
