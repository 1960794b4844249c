import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '../../clock.js'
import { InputError } from '../../errors.js'
import { readBody, sendJson, startHttpServer } from '../emulator-http.js'
import type { CredentialStore } from '../sigv4/credential-store.js'
import { verifySigV4 } from '../sigv4/verify-sigv4.js'
import type { Trail } from '../trail.js'
import {
  batchExecuteStatement,
  beginTransaction,
  commitTransaction,
  executeStatement,
  rollbackTransaction,
  type CallDetail,
  type Operation,
  type OperationContext,
  type SecretBinding,
} from './rds-data-operations.js'
import { RDS_DATA_ERROR_STATUS, RdsDataError } from './rds-data-types.js'
import { createTransactionRegistry } from './transaction-registry.js'

export interface RdsDataClusterConfig {
  readonly resourceArn: string
  readonly secrets: Readonly<Record<string, SecretBinding>>
}

export interface RdsDataEmulatorOptions {
  readonly store: CredentialStore
  readonly trail: Trail
  readonly clock: Clock
  readonly clusters: readonly RdsDataClusterConfig[]
  readonly host?: string
  readonly port?: number
  /** The service answers synchronously for 45 s at most. */
  readonly statementTimeoutMs?: number
  /** Records are capped at 1 MiB per response (JSON-formatted records at 10 MiB). */
  readonly maxResponseBytes?: number
}

export interface RdsDataEmulator {
  /** Base URL to give `RDSDataClient` as `endpoint`. */
  readonly endpoint: string
  close(): Promise<void>
}

const OPERATIONS: Readonly<Record<string, readonly [string, Operation]>> = {
  '/Execute': ['ExecuteStatement', executeStatement],
  '/BatchExecute': ['BatchExecuteStatement', batchExecuteStatement],
  '/BeginTransaction': ['BeginTransaction', beginTransaction],
  '/CommitTransaction': ['CommitTransaction', commitTransaction],
  '/RollbackTransaction': ['RollbackTransaction', rollbackTransaction],
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024
const SWEEP_INTERVAL_MS = 10_000

function sendError(res: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { message, ...extra }, { 'x-amzn-errortype': type, 'x-amzn-requestid': crypto.randomUUID() })
}

/**
 * Starts an RDS Data API (restJson1) emulator: SigV4 (`rds-data`) on every request, each
 * resourceArn/secretArn pair bound to a backing database, every call recorded in the trail.
 */
export async function startRdsDataEmulator(options: RdsDataEmulatorOptions): Promise<RdsDataEmulator> {
  const transactions = createTransactionRegistry(options.clock)
  const ctx: OperationContext = {
    clusters: new Map(options.clusters.map((c) => [c.resourceArn, new Map(Object.entries(c.secrets))] as const)),
    transactions,
    statementTimeoutMs: options.statementTimeoutMs ?? 45_000,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/'
    const path = rawUrl.split('?')[0] ?? '/'
    const route = OPERATIONS[path]
    const action = route?.[0] ?? 'Unknown'
    const claimedKey = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? ''
    const refuse = (status: number, type: string, message: string, region = '') => {
      options.trail.record({
        service: 'rds-data',
        action,
        region,
        accessKeyId: claimedKey,
        principalArn: options.store.get(claimedKey)?.principalArn ?? '',
        outcome: type,
      })
      sendError(res, status, type, message)
    }

    let body: Uint8Array
    try {
      body = await readBody(req, MAX_REQUEST_BYTES)
    } catch (err) {
      if (!(err instanceof InputError)) throw err
      refuse(413, 'RequestEntityTooLargeException', 'Request body is too large.')
      return
    }
    const auth = verifySigV4({ method: req.method ?? '', rawUrl, headers: req.headers, body }, { store: options.store, service: 'rds-data', clock: options.clock })
    if (!auth.ok) {
      refuse(auth.status, auth.code, auth.message)
      return
    }
    if (route === undefined || req.method !== 'POST') {
      refuse(404, 'UnknownOperationException', 'Unknown operation.', auth.region)
      return
    }

    const detail: CallDetail = {}
    const record = (outcome: string) =>
      options.trail.record({
        service: 'rds-data',
        action,
        region: auth.region,
        accessKeyId: auth.accessKeyId,
        principalArn: auth.credential.principalArn,
        ...(auth.credential.sourceIdentity === undefined ? {} : { sourceIdentity: auth.credential.sourceIdentity }),
        outcome,
        detail,
      })

    let input: unknown
    try {
      input = body.length === 0 ? {} : JSON.parse(Buffer.from(body).toString('utf8'))
    } catch {
      record('SerializationException')
      sendError(res, 400, 'SerializationException', 'The request body is not valid JSON.')
      return
    }
    await transactions.sweep()
    try {
      const outcome = await route[1](ctx, input, detail)
      record('ok')
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(outcome.body),
        'x-amzn-requestid': crypto.randomUUID(),
      })
      res.end(outcome.body)
    } catch (err) {
      const failure = err instanceof RdsDataError ? err : new RdsDataError('InternalServerErrorException', 'Internal failure', { cause: err })
      record(failure.code)
      const extra = failure.dbConnectionId === undefined ? {} : { dbConnectionId: failure.dbConnectionId }
      sendError(res, RDS_DATA_ERROR_STATUS[failure.code], failure.code, failure.message, extra)
    }
  }

  const server = await startHttpServer(handle, { ...(options.host === undefined ? {} : { host: options.host }), ...(options.port === undefined ? {} : { port: options.port }) })
  const sweeper = setInterval(() => void transactions.sweep(), SWEEP_INTERVAL_MS)
  sweeper.unref()
  return {
    endpoint: server.url,
    async close() {
      clearInterval(sweeper)
      await transactions.closeAll()
      await server.close()
    },
  }
}
