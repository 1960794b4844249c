import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { z } from 'zod'
import type { AwsTarget } from '../aws/aws-clients.js'
import { AirlockError } from '../errors.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { loadGatewayConfig } from './load-config.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'
import { systemClock } from '../clock.js'
import { createLogger } from './logger.js'
import { SHUTDOWN_CANCEL_GRACE_MS, startGateway } from './start-gateway.js'

/** AIRLOCK_LOG_LEVEL; anything else keeps the default (info). */
const logLevelSchema = z.enum(['debug', 'info', 'warn', 'error'])

/** Beyond the drain and the cancel grace, how long the shutdown may take before the process is ended anyway. */
const EXIT_MARGIN_MS = 2_000

export interface GatewayAwsIdentity {
  /** The gateway's own AWS credentials (SDK default chain: IRSA web identity in EKS). */
  readonly credentials: AwsCredentialIdentityProvider
  /** Per-connection roles, assumed by the gateway as itself and tagged with the agent's identity. */
  readonly roleCredentials?: (roleArn: string, target: AwsTarget) => AwsCredentialIdentityProvider
}

export interface ServeCommandDeps {
  readonly aws: (io: CliIo) => GatewayAwsIdentity
  /** Starts the gateway; `startGateway` unless a test wraps it. */
  readonly start?: typeof startGateway
}

/** Waits until the shutdown signal fires (never, without one). */
export function untilShutdown(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/** `airlock serve --config <file>`: runs the gateway until SIGINT/SIGTERM. */
export function createServeCommand(deps: ServeCommandDeps): CliCommand {
  return async function serve(argv, io) {
    const parsed = parseFlags(argv, { config: { type: 'string' } }, 'serve', io, false)
    if (parsed === undefined) return USAGE_ERROR
    const file = parsed.values.config ?? io.env.AIRLOCK_CONFIG
    if (file === undefined || file === '') return usageError(io, 'serve', 'which configuration: give --config <file> or set AIRLOCK_CONFIG')
    const level = logLevelSchema.safeParse(io.env.AIRLOCK_LOG_LEVEL)
    const logger = createLogger(io.stderr, systemClock.now, level.success ? { level: level.data } : {})
    try {
      const config = await loadGatewayConfig(file, io.env, io.cwd)
      const aws = deps.aws(io)
      const running = await (deps.start ?? startGateway)({
        config,
        awsCredentials: aws.credentials,
        ...(aws.roleCredentials === undefined ? {} : { roleCredentials: aws.roleCredentials }),
        logger,
      })
      logger.info('airlock is listening', { mcp: running.resource, audience: running.audience, issuer: config.issuer, ...(running.admin === undefined ? {} : { admin: running.admin.origin }) })
      await untilShutdown(io.shutdown)
      // Whatever hangs (an audit disk, a stuck socket), the process ends within the drain plus a few seconds.
      const limitMs = config.shutdown.drainSeconds * 1000 + SHUTDOWN_CANCEL_GRACE_MS + EXIT_MARGIN_MS
      const backstop = setTimeout(() => {
        logger.error('shutdown overran its deadline; exiting without waiting further', undefined, { limitMs })
        io.exit?.(1)
      }, limitMs)
      backstop.unref()
      try {
        await running.close()
      } finally {
        clearTimeout(backstop)
      }
      logger.info('airlock stopped')
      return 0
    } catch (error) {
      if (error instanceof AirlockError) {
        for (const line of error.message.split('\n')) io.stderr(`airlock: ${line}\n`)
        return 1
      }
      throw error
    }
  }
}
