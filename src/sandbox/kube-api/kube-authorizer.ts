/** One RBAC-like rule: a namespace list of "*" also covers cluster-scoped and all-namespace requests. */
export interface KubeRbacRule {
  readonly verbs: readonly string[]
  /** Resources, with subresources written `pods/log`, `deployments/scale`; "*" for all. */
  readonly resources: readonly string[]
  readonly namespaces: readonly string[]
}

/** An aws-auth ConfigMap `mapRoles` entry plus the RBAC its groups would be bound to. */
export interface KubeIdentityMapping {
  /** IAM role or user ARN; assumed-role sessions are matched by their role ARN. */
  readonly roleArn: string
  readonly username: string
  readonly groups: readonly string[]
  readonly rules: readonly KubeRbacRule[]
}

export interface KubeAccessRequest {
  readonly verb: string
  readonly resource: string
  /** Undefined for cluster-scoped resources and requests across all namespaces. */
  readonly namespace: string | undefined
}

/** Whether any rule of the mapping allows the request (deny by default). */
export function isAllowed(mapping: KubeIdentityMapping, request: KubeAccessRequest): boolean {
  return mapping.rules.some(
    (rule) =>
      (rule.verbs.includes('*') || rule.verbs.includes(request.verb))
      && (rule.resources.includes('*') || rule.resources.includes(request.resource))
      && (rule.namespaces.includes('*') || (request.namespace !== undefined && rule.namespaces.includes(request.namespace))),
  )
}
