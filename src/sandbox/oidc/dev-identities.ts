/** The sandbox's demo people: who they are decides what the policy lets them do. */
export const DEV_IDENTITIES = {
  alice: { groups: ['dba'] },
  bob: { groups: ['sre'] },
  /** Approves what needs an SRE lead's approval (bob's deployment restarts). */
  carol: { groups: ['sre-leads'] },
  mallory: { groups: [] },
} as const satisfies Record<string, { groups: readonly string[] }>

export type DevIdentity = keyof typeof DEV_IDENTITIES

export const DEV_IDENTITY_NAMES = ['alice', 'bob', 'carol', 'mallory'] as const satisfies readonly DevIdentity[]

export function isDevIdentity(name: string): name is DevIdentity {
  return Object.hasOwn(DEV_IDENTITIES, name)
}

/** Fixed, well-known secrets: the sandbox is loopback-only and these guard nothing real. */
export function devClientSecret(identity: DevIdentity): string {
  return `airlock-dev-secret-${identity}`
}
