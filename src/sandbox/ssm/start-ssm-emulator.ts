import { randomUUID } from 'node:crypto'
import { mkdtemp, realpath, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../clock.js'
import { readBody, sendJson, startHttpServer } from '../emulator-http.js'
import type { CredentialStore } from '../sigv4/credential-store.js'
import { mapSigV4Failure } from '../sigv4/sigv4-failure.js'
import { verifySigV4 } from '../sigv4/verify-sigv4.js'
import type { Trail } from '../trail.js'
import {
  cancelCommand,
  describeInstanceInformation,
  getCommandInvocation,
  listCommandInvocations,
  sendCommand,
  type ExecutionRecord,
  type SsmCall,
  type SsmOutcome,
  type SsmState,
} from './ssm-actions.js'
import { isSsmFault, ssmFault, type SsmFault } from './ssm-fault.js'
import { DEFAULT_BWRAP } from './run-script.js'
import { hostSystemLayout } from './seed-instance-root.js'
import { createFleet, type SandboxInstance } from './ssm-fleet.js'

export const SSM_ACTIONS = ['SendCommand', 'GetCommandInvocation', 'ListCommandInvocations', 'CancelCommand', 'DescribeInstanceInformation'] as const
export type SsmAction = (typeof SSM_ACTIONS)[number]

const HANDLERS: Record<SsmAction, (state: SsmState, call: SsmCall) => SsmOutcome | SsmFault> = {
  SendCommand: sendCommand,
  GetCommandInvocation: getCommandInvocation,
  ListCommandInvocations: listCommandInvocations,
  CancelCommand: cancelCommand,
  DescribeInstanceInformation: describeInstanceInformation,
}

export interface SsmEmulatorOptions {
  readonly store: CredentialStore
  readonly trail: Trail
  readonly clock: Clock
  readonly instances: readonly SandboxInstance[]
  readonly host?: string
  readonly port?: number
  /** How long after SendCommand an invocation becomes visible and starts (default 50 ms). */
  readonly deliveryDelayMs?: number
  /** The bubblewrap executable instance scripts run under (default /usr/bin/bwrap); without it no script runs. */
  readonly bwrap?: string
  /** The instant the demo incident in the instances' logs is placed against (default: now); see demo-incident. */
  readonly incidentNow?: number
}

export interface SsmEmulator {
  /** Base URL for an SSMClient `endpoint`. */
  readonly endpoint: string
  /** Every script that reached an instance, with the principal that sent it. */
  executions(): readonly ExecutionRecord[]
  /** Makes the next `times` calls of `action` fail with `code` (e.g. ThrottlingException), for tests. */
  failNext(action: SsmAction, code: 'ThrottlingException' | 'InternalServerError', times?: number): void
  /** Marks an instance Online or ConnectionLost. */
  setOnline(instanceId: string, online: boolean): void
  /**
   * The host directory that is the instance's root filesystem: a file written at `<dir>/var/log/x`
   * is `/var/log/x` to the instance's commands (see createFleet), which see nothing else of the host.
   */
  instanceDir(instanceId: string): string
  close(): Promise<void>
}

const MAX_BODY = 256 * 1024
const JSON_TYPE = 'application/x-amz-json-1.1'

function isAction(value: string): value is SsmAction {
  return (SSM_ACTIONS as readonly string[]).includes(value)
}

/**
 * Starts an SSM Run Command emulator (awsJson1_1, SigV4-checked) whose instances are local
 * sandboxed workers: each runs AWS-RunShellScript under bubblewrap, in its own seeded read-only
 * root with its own process view and no network (see runScript). For local demos and tests.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
 */
export async function startSsmEmulator(options: SsmEmulatorOptions): Promise<SsmEmulator> {
  // Canonical (the temp dir may itself be behind a link), so instance paths equal what realpath says on them.
  const root = await realpath(await mkdtemp(join(tmpdir(), 'airlock-ssm-')))
  const fleet = await createFleet(options.instances, root, options.incidentNow ?? options.clock.now())
  const state: SsmState = {
    bwrap: options.bwrap ?? DEFAULT_BWRAP,
    systemDirs: (await hostSystemLayout()).mounts,
    clock: options.clock,
    fleet,
    commands: new Map(),
    executions: [],
    deliveryDelayMs: options.deliveryDelayMs ?? 50,
    timers: new Set(),
  }
  const injected = new Map<SsmAction, { code: string; times: number }>()

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID()
    const target = req.headers['x-amz-target']
    const op = typeof target === 'string' && target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : ''
    const reply = (outcome: SsmOutcome | SsmFault, who?: SsmCall): void => {
      options.trail.record({
        service: 'ssm',
        action: op === '' ? 'Unknown' : op,
        region: who?.region ?? '',
        accessKeyId: who?.credential.accessKeyId ?? '',
        principalArn: who?.credential.principalArn ?? '',
        ...(who?.credential.sourceIdentity === undefined ? {} : { sourceIdentity: who.credential.sourceIdentity }),
        outcome: isSsmFault(outcome) ? outcome.code : 'ok',
        ...(isSsmFault(outcome) ? {} : { detail: outcome.trail }),
      })
      const headers = { 'x-amzn-requestid': requestId }
      if (isSsmFault(outcome)) {
        sendJson(res, outcome.status, { __type: outcome.code, Message: outcome.message }, { ...headers, 'x-amzn-errortype': outcome.code }, JSON_TYPE)
      } else {
        sendJson(res, 200, outcome.result, headers, JSON_TYPE)
      }
    }

    let body: Uint8Array
    try {
      body = await readBody(req, MAX_BODY)
    } catch {
      reply(ssmFault('RequestEntityTooLargeException', 'Request body too large.', 413))
      return
    }
    // Authentication comes first, as in AWS: an unsigned caller learns nothing about the API.
    const auth = verifySigV4({ method: req.method ?? 'POST', rawUrl: req.url ?? '/', headers: req.headers, body }, { store: options.store, service: 'ssm', clock: options.clock })
    if (!auth.ok) {
      const mapped = mapSigV4Failure(auth, 'awsJson')
      reply(ssmFault(mapped.code, mapped.message, mapped.status))
      return
    }
    const who: Omit<SsmCall, 'body'> = { credential: auth.credential, region: auth.region }
    if (req.method !== 'POST' || (req.url ?? '/') !== '/') {
      reply(ssmFault('UnknownOperationException', 'Only POST / is supported.'), { ...who, body: undefined })
      return
    }
    if (!isAction(op)) {
      reply(ssmFault('UnknownOperationException', 'The operation is not supported by the sandbox.'), { ...who, body: undefined })
      return
    }
    if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== JSON_TYPE) {
      reply(ssmFault('SerializationException', `Expected Content-Type ${JSON_TYPE}.`), { ...who, body: undefined })
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8') || '{}')
    } catch {
      reply(ssmFault('SerializationException', 'The request body is not valid JSON.'), { ...who, body: undefined })
      return
    }
    const call: SsmCall = { ...who, body: parsed }
    const fault = injected.get(op)
    if (fault !== undefined && fault.times > 0) {
      fault.times--
      reply(ssmFault(fault.code, fault.code === 'ThrottlingException' ? 'Rate exceeded' : 'Internal error', fault.code === 'ThrottlingException' ? 400 : 500), call)
      return
    }
    reply(HANDLERS[op](state, call), call)
  }

  const server = await startHttpServer(handle, {
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  })
  return {
    endpoint: server.url,
    executions: () => [...state.executions],
    failNext: (action, code, times = 1) => {
      injected.set(action, { code, times })
    },
    setOnline: (instanceId, online) => {
      const instance = fleet.get(instanceId)
      if (instance === undefined) throw new TypeError(`unknown sandbox instance ${instanceId}`)
      instance.online = online
    },
    instanceDir: (instanceId) => {
      const instance = fleet.get(instanceId)
      if (instance === undefined) throw new TypeError(`unknown sandbox instance ${instanceId}`)
      return instance.dir
    },
    close: async () => {
      for (const timer of state.timers) clearTimeout(timer)
      state.timers.clear()
      for (const cmd of state.commands.values()) {
        for (const inv of cmd.invocations.values()) {
          // Not yet delivered: never start after close.
          if (inv.status === 'Pending') inv.status = 'Cancelled'
          if (inv.running !== undefined) {
            inv.running.cancel()
            await inv.running.done
          }
        }
      }
      await server.close()
      await rm(root, { recursive: true, force: true })
    },
  }
}
