import { z } from 'zod'
import { KUBE_RESOURCES, KUBE_VERBS } from '../../src/policy/kubectl-constraints.js'

const summary = z.record(z.string(), z.unknown())

/** kubectl's structured result, one shape for every verb: which fields are present depends on the verb. */
export const kubectlOutput = {
  verb: z.enum(KUBE_VERBS),
  resource: z.enum(KUBE_RESOURCES),
  kind: z.string().optional().describe('The resource kind (Pod, Deployment, …)'),
  namespace: z.string().optional(),
  name: z.string().optional(),
  count: z.number().int().optional().describe('list, events: how many objects'),
  truncated: z.boolean().optional().describe('list: more objects exist; logs: lines were cut to your grant\'s limits'),
  filteredToGrant: z.boolean().optional().describe('list namespaces: only those your grant names are shown'),
  items: z.array(summary).optional().describe('list: one summary per object'),
  object: summary.optional().describe('get, describe: the object\'s summary'),
  events: z.array(summary).optional().describe('describe, events: events, oldest first'),
  eventsNote: z.string().optional().describe('describe: why no events are shown'),
  container: z.string().optional().describe('logs: the container read'),
  previous: z.boolean().optional().describe('logs: the log is the previous (terminated) container\'s'),
  lines: z.number().int().optional().describe('logs: lines returned'),
  limits: z.object({ tailLines: z.number().int(), sinceSeconds: z.number().int(), maxBytes: z.number().int() }).optional().describe('logs: the limits applied'),
  log: z.string().optional().describe('logs: the log text'),
  replicas: z.number().int().optional().describe('scale: replicas now asked for'),
  restartedAt: z.string().optional().describe('rollout-restart: the restart instant'),
  deleted: z.boolean().optional().describe('delete-pod: the pod was deleted'),
}
