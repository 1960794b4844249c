// @peculiar/x509 depends on tsyringe, which needs the Reflect metadata API at load time. No
// polyfill package is installed, so this supplies the few functions tsyringe and the compiled
// decorators call; it only installs itself when no polyfill is present.
type Target = object
type MetadataKey = unknown

const metadata = new WeakMap<Target, Map<string | symbol | undefined, Map<MetadataKey, unknown>>>()

function table(target: Target, property: string | symbol | undefined, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProperty = metadata.get(target)
  if (byProperty === undefined) {
    if (!create) return undefined
    byProperty = new Map()
    metadata.set(target, byProperty)
  }
  let entries = byProperty.get(property)
  if (entries === undefined && create) {
    entries = new Map()
    byProperty.set(property, entries)
  }
  return entries
}

const shim = {
  defineMetadata(key: MetadataKey, value: unknown, target: Target, property?: string | symbol): void {
    table(target, property, true)?.set(key, value)
  },
  getOwnMetadata(key: MetadataKey, target: Target, property?: string | symbol): unknown {
    return table(target, property, false)?.get(key)
  },
  getMetadata(key: MetadataKey, target: Target, property?: string | symbol): unknown {
    for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
      const entries = table(t, property, false)
      if (entries?.has(key) === true) return entries.get(key)
    }
    return undefined
  },
  hasMetadata(key: MetadataKey, target: Target, property?: string | symbol): boolean {
    return shim.getMetadata(key, target, property) !== undefined
  },
  metadata(key: MetadataKey, value: unknown) {
    return (target: Target, property?: string | symbol) => shim.defineMetadata(key, value, target, property)
  },
}

const reflect: Record<string, unknown> = Reflect as unknown as Record<string, unknown>
if (typeof reflect['getMetadata'] !== 'function') {
  for (const [name, fn] of Object.entries(shim)) reflect[name] = fn
}

export {}
