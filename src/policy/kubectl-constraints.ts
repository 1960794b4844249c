import { z } from 'zod'

export const READ_VERBS = ['get', 'list', 'describe', 'logs', 'events'] as const
export const WRITE_VERBS = ['scale', 'rollout-restart', 'delete-pod'] as const
export const KUBE_VERBS = [...READ_VERBS, ...WRITE_VERBS] as const
export const KUBE_RESOURCES = [
  'pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs',
  'services', 'configmaps', 'events', 'namespaces', 'nodes', 'secrets',
] as const
export type KubeVerb = (typeof KUBE_VERBS)[number]
export type KubeResource = (typeof KUBE_RESOURCES)[number]

/** Limits a grant puts on `kubectl`. Secrets and write verbs appear only when listed. */
export const kubectlConstraintsSchema = z.strictObject({
  verbs: z.array(z.enum(KUBE_VERBS)).min(1),
  resources: z.array(z.enum(KUBE_RESOURCES)).min(1),
  /** Namespace names or globs; "*" only when written. */
  namespaces: z.array(z.string().regex(/^(\*|[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?)$/, 'expected a namespace name or glob')).min(1),
  logs: z
    .strictObject({
      maxLines: z.number().int().min(1).max(10_000).default(500),
      maxBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
      maxSinceSeconds: z.number().int().min(1).max(604_800).default(86_400),
    })
    .default({ maxLines: 500, maxBytes: 65_536, maxSinceSeconds: 86_400 }),
  revealSecretValues: z.boolean().default(false),
  /** Write verbs (scale, rollout-restart, delete-pod) act only on objects of these names; reads are unaffected. */
  names: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'expected a Kubernetes object name')).min(1).optional(),
})
export type KubectlConstraints = z.infer<typeof kubectlConstraintsSchema>
