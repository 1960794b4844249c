import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { createBoundedCache, type CacheKey } from '../../src/aws/bounded-cache.js'
import { sendBounded } from '../../src/aws/bounded-send.js'
import type { Clock } from '../../src/clock.js'
import { GuardError, InputError } from '../../src/errors.js'
import type { NamedConnection, SsmConnection } from '../../src/policy/connection-schema.js'
import { mapSsmError } from './map-ssm-error.js'

const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/
const NAME_TAG = /^[A-Za-z0-9][\w .:/=+@-]{0,254}$/
/** Tag lookups are cached this long: short enough that re-tagging takes effect quickly. */
export const RESOLVE_CACHE_MS = 30_000
const MAX_PAGES = 20

/** The call's cancellation and deadline (epoch ms on the injected clock). */
export interface ResolveBounds {
  readonly signal: AbortSignal
  readonly deadline: number
}

interface Cached {
  readonly ids: readonly string[]
  readonly until: number
}

export interface InstanceResolver {
  /**
   * The instance id `instance` (an id or a Name tag value) stands for, if it belongs to the
   * connection (its `instanceIds`, or its tag `targets` as SSM reports them).
   * @throws GuardError INSTANCE_NOT_ALLOWED; InputError INPUT_INVALID for an ambiguous name;
   *   UpstreamError from DescribeInstanceInformation.
   */
  resolve(connection: NamedConnection<SsmConnection>, instance: string, ssm: SSMClient, bounds: ResolveBounds): Promise<string>
}

async function describe(ssm: SSMClient, filters: { Key: string; Values: string[] }[], bounds: ResolveBounds, clock: Clock): Promise<string[]> {
  const ids: string[] = []
  let token: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    try {
      const input = { Filters: filters, MaxResults: 50, ...(token === undefined ? {} : { NextToken: token }) }
      const out = await sendBounded((options) => ssm.send(new DescribeInstanceInformationCommand(input), options), {
        label: 'DescribeInstanceInformation',
        signal: bounds.signal,
        timeoutMs: bounds.deadline - clock.now(),
      })
      for (const info of out.InstanceInformationList ?? []) if (info.InstanceId !== undefined) ids.push(info.InstanceId)
      token = out.NextToken
    } catch (error) {
      throw mapSsmError(error, 'DescribeInstanceInformation')
    }
    if (token === undefined || token === '') return ids
  }
  return ids
}

export function instanceNotAllowed(connection: NamedConnection<SsmConnection>, instance: string): GuardError {
  return new GuardError('INSTANCE_NOT_ALLOWED', `instance "${instance}" is not part of connection "${connection.id}"`)
}

/** Most tag lookups kept: names come from callers, so without a bound they could fill memory. */
const MAX_CACHED_LOOKUPS = 1000

/** Resolves and checks instances against a connection; tag lookups are cached briefly per connection. */
export function createInstanceResolver(clock: Clock): InstanceResolver {
  const cache = createBoundedCache<Cached>({ maxEntries: MAX_CACHED_LOOKUPS, clock, expiresAt: (entry) => entry.until })

  async function cached(key: CacheKey, load: () => Promise<string[]>): Promise<readonly string[]> {
    const hit = cache.get(key)
    if (hit !== undefined) return hit.ids
    const ids = await load()
    cache.set(key, { ids, until: clock.now() + RESOLVE_CACHE_MS })
    return ids
  }

  /** Who asks and where: what SSM answers depends on the connection's region and role. */
  const scope = (connection: NamedConnection<SsmConnection>): CacheKey => [connection.id, connection.region, connection.roleArn]

  async function targetIds(connection: NamedConnection<SsmConnection>, ssm: SSMClient, bounds: ResolveBounds): Promise<readonly string[]> {
    const targets = Object.entries(connection.targets ?? {})
    if (targets.length === 0) return []
    // Several tag keys narrow (AND), as SendCommand Targets do.
    const filters = targets.map(([key, values]) => ({ Key: key, Values: [...values] }))
    return cached(['targets', ...scope(connection), JSON.stringify(filters)], () => describe(ssm, filters, bounds, clock))
  }

  return {
    async resolve(connection, instance, ssm, bounds) {
      const listed = connection.instanceIds ?? []
      let candidates: readonly string[]
      if (INSTANCE_ID.test(instance)) {
        if (listed.includes(instance)) return instance
        candidates = [instance]
      } else {
        if (!NAME_TAG.test(instance)) throw instanceNotAllowed(connection, instance)
        candidates = await cached(['name', ...scope(connection), instance], () => describe(ssm, [{ Key: 'tag:Name', Values: [instance] }], bounds, clock))
      }
      const direct = candidates.filter((id) => listed.includes(id))
      const viaTargets = candidates.length > direct.length ? await targetIds(connection, ssm, bounds) : []
      const allowed = [...new Set([...direct, ...candidates.filter((id) => viaTargets.includes(id))])]
      if (allowed.length === 0) throw instanceNotAllowed(connection, instance)
      if (allowed.length > 1) throw new InputError('INPUT_INVALID', `the name "${instance}" matches ${allowed.length} instances; use an instance id`)
      const [only] = allowed
      if (only === undefined) throw instanceNotAllowed(connection, instance)
      return only
    },
  }
}
