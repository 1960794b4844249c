import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { seedInstanceRoot } from './seed-instance-root.js'
import type { DescribeInstanceInformationRequest } from './ssm-requests.js'
import { ssmFault, type SsmFault } from './ssm-fault.js'

export const sandboxInstanceSchema = z.strictObject({
  instanceId: z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/),
  name: z.string().min(1).max(255),
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
  online: z.boolean().optional(),
})
export type SandboxInstance = z.input<typeof sandboxInstanceSchema>

/** The demo fleet the sandbox starts with. */
export const DEMO_INSTANCES: readonly SandboxInstance[] = [
  { instanceId: 'i-0a1b2c3d4e5f60001', name: 'web-1', tags: { role: 'web' } },
  { instanceId: 'i-0a1b2c3d4e5f60002', name: 'web-2', tags: { role: 'web' } },
]

export interface FleetInstance {
  readonly instanceId: string
  readonly name: string
  /** Includes `Name`. */
  readonly tags: Readonly<Record<string, string>>
  online: boolean
  /** The host directory holding the instance's root filesystem (its `/`, read-only to its scripts). */
  readonly dir: string
  readonly ipAddress: string
}

/**
 * Symbolic links in each instance's log tree, relative to its root: some stay inside `/var/log`,
 * some lead out of it (to `/etc`, outside any log template's tree), so a path that matches a
 * template as text can be shown to resolve, on the instance, elsewhere.
 */
export const FLEET_LINKS: readonly { readonly path: string; readonly target: string; readonly inside: boolean }[] = [
  { path: 'var/log/app/current.log', target: 'app.log', inside: true },
  { path: 'var/log/current', target: 'app', inside: true },
  { path: 'var/log/app/config.log', target: '../../../etc/app.conf', inside: false },
  { path: 'var/log/etc', target: '../../etc', inside: false },
  { path: 'var/log/app/absolute.log', target: '/etc/app.conf', inside: false },
  { path: 'var/log/dangling.log', target: 'no-such-file.log', inside: false },
]

/**
 * Creates each instance's root filesystem (see seedInstanceRoot) with a small log tree, a config
 * file outside it (`/etc/app.conf`, with a made-up credential) and the {@link FLEET_LINKS}; `now`
 * places the demo incident in its nginx logs.
 */
export async function createFleet(instances: readonly SandboxInstance[], root: string, now: number): Promise<Map<string, FleetInstance>> {
  const fleet = new Map<string, FleetInstance>()
  for (const [index, raw] of instances.entries()) {
    const spec = sandboxInstanceSchema.parse(raw)
    if (fleet.has(spec.instanceId)) throw new TypeError(`duplicate sandbox instance ${spec.instanceId}`)
    const dir = join(root, spec.instanceId)
    await mkdir(dir, { recursive: true })
    await seedInstanceRoot(dir, spec.name, now)
    await writeFile(join(dir, 'etc', 'app.conf'), 'db_password=sandbox-only-not-a-secret\n')
    for (const link of FLEET_LINKS) await symlink(link.target, join(dir, link.path))
    fleet.set(spec.instanceId, {
      instanceId: spec.instanceId,
      name: spec.name,
      tags: { ...spec.tags, Name: spec.name },
      online: spec.online ?? true,
      dir,
      ipAddress: `10.0.0.${(index % 250) + 4}`,
    })
  }
  return fleet
}

function matchesFilter(instance: FleetInstance, key: string, values: readonly string[]): boolean | SsmFault {
  if (key.startsWith('tag:')) {
    const value = instance.tags[key.slice(4)]
    return value !== undefined && values.includes(value)
  }
  switch (key) {
    case 'InstanceIds':
      return values.includes(instance.instanceId)
    case 'PingStatus':
      return values.includes(instance.online ? 'Online' : 'ConnectionLost')
    case 'PlatformTypes':
      return values.includes('Linux')
    case 'ResourceType':
      return values.includes('EC2Instance')
    case 'tag-key':
      return values.some((v) => v in instance.tags)
    default:
      return ssmFault('InvalidFilterKey', `The filter key ${key} is not valid.`)
  }
}

/** Applies DescribeInstanceInformation's two (mutually exclusive) filter styles. */
export function filterInstances(
  fleet: ReadonlyMap<string, FleetInstance>,
  request: DescribeInstanceInformationRequest,
): FleetInstance[] | SsmFault {
  const legacy = request.InstanceInformationFilterList ?? []
  const filters = request.Filters ?? []
  if (legacy.length > 0 && filters.length > 0) {
    return ssmFault('InvalidFilter', 'InstanceInformationFilterList and Filters cannot be used together.')
  }
  const all = [...legacy.map((f) => ({ key: f.key, values: f.valueSet })), ...filters.map((f) => ({ key: f.Key, values: f.Values }))]
  const out: FleetInstance[] = []
  for (const instance of fleet.values()) {
    let keep = true
    for (const filter of all) {
      const verdict = matchesFilter(instance, filter.key, filter.values)
      if (typeof verdict !== 'boolean') return verdict
      keep &&= verdict
    }
    if (keep) out.push(instance)
  }
  return out
}
