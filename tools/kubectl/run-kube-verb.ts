import { ApiException } from '@kubernetes/client-node'
import type { KubeApis } from '../../src/aws/kube-client.js'
import type { KubectlConstraints } from '../../src/policy/kubectl-constraints.js'
import type { KubeAccessPlan, KubectlArgs } from './check-kube-access.js'
import { formatKubeTable } from './format-kube-table.js'
import { arr, at, num, str, type Json } from './kube-json.js'
import { RESOURCE_OPS, deletePod, listObjects, readLog, readObject, restartObject, scaleObject } from './kube-operations.js'
import { eventSummary, summarizeObject } from './summarize-object.js'

export interface KubeVerbResult {
  readonly text: string
  readonly structured: Json
  readonly audit: Json
}

interface RunInput {
  readonly apis: KubeApis
  readonly args: KubectlArgs
  readonly plan: KubeAccessPlan
  readonly constraints: KubectlConstraints
  readonly now: number
}

/** At most this many objects per list; more is reported as truncated. */
export const MAX_LIST_ITEMS = 500
const MAX_EVENTS = 100
const GROUPS: Readonly<Record<string, string>> = { deployments: 'apps', replicasets: 'apps', statefulsets: 'apps', daemonsets: 'apps', jobs: 'batch', cronjobs: 'batch' }

/** Performs one already-authorised kubectl verb with client-node and shapes the output. */
export async function runKubeVerb(input: RunInput): Promise<KubeVerbResult> {
  const { apis, args, plan, now } = input
  const { resource, verb } = args
  const { kind } = RESOURCE_OPS[resource]
  const summaryOptions = { revealSecretValues: input.constraints.revealSecretValues }
  const name = args.name ?? ''
  const namespace = plan.namespace
  const where = namespace === undefined ? '' : ` in namespace ${namespace}`
  const ref = `${resource.replace(/s$/, '')}${GROUPS[resource] === undefined ? '' : `.${GROUPS[resource]}`}/${name}`

  switch (verb) {
    case 'list': {
      const raw = await listObjects(apis, resource, namespace, { labelSelector: args.labelSelector, fieldSelector: args.fieldSelector, limit: MAX_LIST_ITEMS })
      let items = arr(at(raw, 'items'))
      const filter = plan.namespaceFilter
      if (filter !== undefined) items = items.filter((o) => filter(str(at(o, 'metadata', 'name')) ?? ''))
      const truncated = (str(at(raw, 'metadata', '_continue')) ?? str(at(raw, 'metadata', 'continue')) ?? '') !== ''
      const structured = { verb, resource, kind, namespace, count: items.length, truncated, filteredToGrant: filter !== undefined, items: items.map((o) => summarizeObject(kind, o, summaryOptions)) }
      const note = truncated ? `\n(only the first ${MAX_LIST_ITEMS} are shown; narrow with a selector)` : ''
      return { text: `${formatKubeTable(kind, items, now)}${note}`, structured, audit: { count: items.length, truncated } }
    }
    case 'get':
    case 'describe': {
      const object = await readObject(apis, resource, namespace, name)
      const summary = summarizeObject(kind, object, summaryOptions)
      if (verb === 'get') {
        return { text: `${formatKubeTable(kind, [object], now)}\n\n${JSON.stringify(summary, null, 2)}`, structured: { verb, resource, kind, object: summary }, audit: {} }
      }
      // Events are shown only to grants that could read them anyway (the events verb or resource).
      const mayReadEvents = input.constraints.verbs.includes('events') || input.constraints.resources.includes('events')
      const events = !mayReadEvents
        ? { items: [], note: 'events are not shown: your grant does not include events' }
        : namespace === undefined
          ? { items: [], note: 'events are not shown for cluster-scoped objects' }
          : await eventsFor(apis, namespace, kind, name)
      const structured = { verb, resource, kind, object: summary, events: events.items.map(eventSummary), ...(events.note === undefined ? {} : { eventsNote: events.note }) }
      const eventText = events.note ?? formatKubeTable('Event', events.items, now)
      return { text: `${JSON.stringify(summary, null, 2)}\n\nEvents:\n${eventText}`, structured, audit: { events: events.items.length } }
    }
    case 'events': {
      const selectors = [
        ...(args.name === undefined ? [] : resource === 'events' ? [`metadata.name=${name}`] : [`involvedObject.name=${name}`, `involvedObject.kind=${kind}`]),
        ...(args.fieldSelector === undefined ? [] : [args.fieldSelector]),
      ]
      const raw = await listObjects(apis, 'events', namespace, {
        labelSelector: args.labelSelector,
        fieldSelector: selectors.length === 0 ? undefined : selectors.join(','),
        limit: MAX_LIST_ITEMS,
      })
      const items = sortEvents(arr(at(raw, 'items')))
      return {
        text: `${formatKubeTable('Event', items, now)}`,
        structured: { verb, resource, namespace, count: items.length, events: items.map(eventSummary) },
        audit: { count: items.length },
      }
    }
    case 'logs':
      return logs(input)
    case 'scale': {
      const replicas = args.replicas ?? 0
      const result = await scaleObject(apis, resource, namespace ?? '', name, replicas)
      return { text: `${ref} scaled to ${replicas}${where}`, structured: { verb, resource, namespace, name, replicas: num(at(result, 'spec', 'replicas')) ?? replicas }, audit: { replicas } }
    }
    case 'rollout-restart': {
      const restartedAt = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z')
      await restartObject(apis, resource, namespace ?? '', name, restartedAt)
      return { text: `${ref} restarted${where}`, structured: { verb, resource, namespace, name, restartedAt }, audit: { restartedAt } }
    }
    case 'delete-pod': {
      await deletePod(apis, namespace ?? '', name)
      return { text: `pod "${name}" deleted${where}`, structured: { verb, resource, namespace, name, deleted: true }, audit: {} }
    }
  }
}

async function eventsFor(apis: KubeApis, namespace: string, kind: string, name: string): Promise<{ items: unknown[]; note?: string }> {
  try {
    const raw = await listObjects(apis, 'events', namespace, { fieldSelector: `involvedObject.name=${name},involvedObject.kind=${kind}`, limit: MAX_EVENTS })
    return { items: sortEvents(arr(at(raw, 'items'))) }
  } catch (error) {
    // describe still answers when the gateway may read the object but not its events.
    if (error instanceof ApiException && error.code === 403) return { items: [], note: 'the cluster does not let the gateway read events here' }
    throw error
  }
}

function sortEvents(items: unknown[]): unknown[] {
  const when = (e: unknown) => str(at(e, 'lastTimestamp')) ?? str(at(e, 'eventTime')) ?? ''
  return [...items].sort((a, b) => when(a).localeCompare(when(b)))
}

async function logs(input: RunInput): Promise<KubeVerbResult> {
  const { apis, args, plan, constraints } = input
  const limits = constraints.logs
  const tailLines = Math.min(args.tailLines ?? limits.maxLines, limits.maxLines)
  const sinceSeconds = Math.min(args.sinceSeconds ?? limits.maxSinceSeconds, limits.maxSinceSeconds)
  // One extra line tells whether the grant's line limit hid anything; the byte cap keeps the newest lines.
  const askedAll = args.tailLines === undefined || args.tailLines > limits.maxLines
  const fetchBytes = Math.min(limits.maxBytes * 4, 4 * 1_048_576)
  const raw = await readLog(apis, plan.namespace ?? '', args.name ?? '', {
    container: args.container, previous: args.previous, tailLines: askedAll ? tailLines + 1 : tailLines, sinceSeconds, limitBytes: fetchBytes + 1,
  })
  let lines = raw.split('\n')
  if (lines.at(-1) === '') lines.pop()
  let truncated = Buffer.byteLength(raw) > fetchBytes
  if (lines.length > tailLines) {
    lines = lines.slice(-tailLines)
    truncated = true
  }
  let bytes = 0
  let keep = lines.length
  while (keep > 0) {
    const next = bytes + Buffer.byteLength(lines[keep - 1] ?? '') + (keep === lines.length ? 0 : 1)
    if (next > limits.maxBytes) break
    bytes = next
    keep -= 1
  }
  if (keep > 0) {
    lines = lines.slice(keep)
    truncated = true
  }
  const text = lines.join('\n')
  const which = `${args.container === undefined ? '' : ` container ${args.container}`}${args.previous === true ? ' (previous, terminated container)' : ''}`
  const header = `logs of pod ${plan.namespace ?? ''}/${args.name ?? ''}${which}: ${lines.length} line(s)` +
    (truncated ? ` — truncated to your grant's limits (${tailLines} lines, ${limits.maxBytes} bytes, ${sinceSeconds}s)` : '')
  return {
    text: `${header}\n${text}`,
    structured: { verb: 'logs', resource: 'pods', namespace: plan.namespace, name: args.name, container: args.container, previous: args.previous === true, lines: lines.length, truncated, limits: { tailLines, sinceSeconds, maxBytes: limits.maxBytes }, log: text },
    audit: { lines: lines.length, truncated },
  }
}
