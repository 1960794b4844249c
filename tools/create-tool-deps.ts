import type { AwsClients } from '../src/aws/aws-clients.js'
import { createBoundedCache } from '../src/aws/bounded-cache.js'
import type { Clock } from '../src/clock.js'
import type { ToolDeps } from './define-tool.js'
import { createKubeRuntime } from './kubectl/kube-runtime.js'
import { createInstanceResolver } from './ssm-run/resolve-instance.js'

export interface ToolDepsOptions {
  readonly aws: AwsClients
  readonly clock: Clock
  readonly tools?: ToolDeps['tools']
}

/**
 * Builds what tool handlers share across calls, once per gateway (src/cli): state a tool keeps
 * (cached clients, lookups) lives here, in bounded caches, and never in module-level maps.
 */
export function createToolDeps(options: ToolDepsOptions): ToolDeps {
  return {
    aws: options.aws,
    clock: options.clock,
    kube: createKubeRuntime({ aws: options.aws, clock: options.clock }),
    instances: createInstanceResolver(options.clock),
    mysqlFlavours: createBoundedCache<boolean>({ maxEntries: 1000 }),
    ...(options.tools === undefined ? {} : { tools: options.tools }),
  }
}
