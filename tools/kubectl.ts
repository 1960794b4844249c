import { z } from 'zod'
import { GuardError, UpstreamError } from '../src/errors.js'
import { KUBE_RESOURCES, KUBE_VERBS } from '../src/policy/kubectl-constraints.js'
import { defineTool } from './define-tool.js'
import { checkKubeAccess, isWriteVerb } from './kubectl/check-kube-access.js'
import { kubectlOutput } from './kubectl/kubectl-output.js'

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const objectName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

/** Scoped Kubernetes access to an EKS cluster, authenticated as the gateway with an EKS token. */
/**
 * @kubernetes/client-node adds ~55 MB to the process, so the cluster side of this tool is loaded
 * on its first call: a gateway that serves no EKS connection never pays for it.
 */
async function importKubeRuntime() {
  const [{ runKubeVerb }, { mapKubeError }] = await Promise.all([import('./kubectl/run-kube-verb.js'), import('./kubectl/map-kube-error.js')])
  return { runKubeVerb, mapKubeError }
}

// Memoized: even a cached import() goes through the module loader's resolve hooks on every call.
let kubeRuntime: ReturnType<typeof importKubeRuntime> | undefined
function loadKubeRuntime(): ReturnType<typeof importKubeRuntime> {
  kubeRuntime ??= importKubeRuntime()
  return kubeRuntime
}

export default defineTool({
  name: 'kubectl',
  title: 'Inspect (and, where granted, act on) Kubernetes resources in an EKS cluster',
  description:
    'Structured kubectl for an EKS connection: get, list, describe, logs and events on the resources and namespaces your ' +
    'grant names; scale, rollout-restart and delete-pod only where granted. Output is trimmed to what a person reads, ' +
    'with a kubectl-like table. Secret values and env secret references are shown as <secret name/key> unless your grant reveals them.',
  connectionKinds: ['eks'],
  input: {
    verb: z.enum(KUBE_VERBS).describe('What to do (only the verbs your grants allow are listed)'),
    resource: z.enum(KUBE_RESOURCES).describe('Resource type, plural (only the resources your grants allow are listed)'),
    namespace: z.string().max(63).regex(dnsLabel, 'expected a namespace name').optional().describe('Namespace (required for namespaced resources)'),
    name: z.string().max(253).regex(objectName, 'expected an object name').optional().describe('Object name (get, describe, logs, events for one object, and the write verbs)'),
    labelSelector: z.string().max(1024).optional().describe('list/events: label selector, e.g. "app=payments"'),
    fieldSelector: z.string().max(1024).optional().describe('list/events: field selector, e.g. "status.phase=Running"'),
    container: z.string().max(63).regex(dnsLabel, 'expected a container name').optional().describe('logs: container name when the pod has several'),
    previous: z.boolean().optional().describe('logs: read the previous (terminated) container\'s log, e.g. why a crash-looping container died'),
    tailLines: z.number().int().min(1).max(10_000).optional().describe('logs: last N lines (at most 10000, and capped by your grant)'),
    sinceSeconds: z.number().int().min(1).max(604_800).optional().describe('logs: only lines newer than this (capped by your grant)'),
    replicas: z.number().int().min(0).max(1000).optional().describe('scale: desired replicas'),
  },
  output: kubectlOutput,
  inputChoices(grants) {
    // Only what some usable grant allows, in the tool's own order, so an agent never picks a refused verb.
    const verbs = new Set(grants.flatMap((g) => g.kubectl?.verbs ?? []))
    const resources = new Set(grants.flatMap((g) => g.kubectl?.resources ?? []))
    return { verb: KUBE_VERBS.filter((v) => verbs.has(v)), resource: KUBE_RESOURCES.filter((r) => resources.has(r)) }
  },
  annotations(grant) {
    const verbs = grant.kubectl?.verbs ?? []
    const writes = verbs.some(isWriteVerb)
    return { readOnlyHint: !writes, destructiveHint: verbs.includes('delete-pod'), idempotentHint: !writes, openWorldHint: false }
  },
  permits(grant, args) {
    if (grant.kubectl === undefined) return false
    try {
      checkKubeAccess(grant.kubectl, args)
      return true
    } catch {
      return false
    }
  },
  async handler(ctx) {
    const constraints = ctx.grant.kubectl
    if (constraints === undefined) throw new GuardError('K8S_NOT_ALLOWED', `grant "${ctx.grant.id}" allows kubectl but has no kubectl block`)
    // Everything the grant decides is settled before the cluster (or AWS) hears of the call.
    const plan = checkKubeAccess(constraints, ctx.args)
    if (ctx.signal.aborted) throw new UpstreamError('CANCELLED', 'kubectl cancelled before it started')

    const { runKubeVerb, mapKubeError } = await loadKubeRuntime()
    const connection = ctx.connection
    const target = { region: connection.region, roleArn: connection.roleArn, principal: ctx.principal }
    const { apis } = await ctx.deps.kube.apisFor(target, connection.cluster, ctx.signal)
    try {
      const work = runKubeVerb({ apis, args: ctx.args, plan, constraints, now: ctx.deps.clock.now() })
      const result = await bounded(work, ctx.signal, ctx.deps.aws.requestTimeoutMs, isWriteVerb(ctx.args.verb))
      return {
        text: result.text,
        structured: result.structured,
        audit: { cluster: connection.cluster, verb: ctx.args.verb, resource: ctx.args.resource, namespace: plan.namespace, name: ctx.args.name, ...result.audit },
      }
    } catch (error) {
      throw mapKubeError(error, `kubectl ${ctx.args.verb} ${ctx.args.resource}`)
    }
  },
})

/**
 * Gives up waiting when the caller cancels, the session ends or the cluster does not answer in
 * time. A write given up on may still happen on the cluster (client-node never retries it), so
 * the caller is told its outcome is unknown.
 */
function bounded<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number, write: boolean): Promise<T> {
  const unknown = (why: string) => new UpstreamError('AWS_OUTCOME_UNKNOWN', `kubectl write ${why}; it may still take effect`)
  if (signal.aborted) return Promise.reject(new UpstreamError('CANCELLED', 'kubectl cancelled'))
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    const fail = (error: unknown) => {
      done()
      reject(error)
    }
    const onAbort = () => fail(write ? unknown('cancelled by the caller') : new UpstreamError('CANCELLED', 'kubectl cancelled while waiting for the cluster'))
    const timer = setTimeout(() => fail(write ? unknown(`unanswered after ${timeoutMs} ms`) : new UpstreamError('AWS_TIMEOUT', `the cluster did not answer within ${timeoutMs} ms`)), timeoutMs)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then((value) => {
      done()
      resolve(value)
    }, fail)
  })
}
