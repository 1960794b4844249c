import { z } from 'zod'
import type { Principal } from '../auth/principal.js'
import type { Grant } from '../policy/policy-schema.js'
import type { NamedConnection } from '../policy/connection-schema.js'
import { EVERYONE_GRANT } from '../policy/everyone-grant.js'
import type { Policy } from '../policy/policy.js'
import { toolAccess } from '../policy/tool-access.js'
import { APPROVAL_REASON_ARG } from './approval-call.js'
import type { AnyToolDefinition, ToolAnnotations } from '../../tools/define-tool.js'

type JsonObject = Record<string, unknown>

/** A tool as tools/list shows it to one caller. */
export interface ListedTool {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly inputSchema: { type: 'object'; [key: string]: unknown }
  readonly outputSchema?: { type: 'object'; [key: string]: unknown }
  readonly annotations: ToolAnnotations & { readonly title: string }
}

interface CatalogEntry {
  readonly tool: AnyToolDefinition
  readonly inputJson: JsonObject
  readonly outputJson: JsonObject | undefined
  readonly args: z.ZodType<Record<string, unknown>>
}

export interface ToolCatalog {
  find(name: string): CatalogEntry | undefined
  /**
   * The tools this caller holds at least one usable or approval grant for (and those open to
   * everyone), each `connection` an enum of theirs and each tool's `inputChoices` narrowed to
   * those grants.
   */
  list(policy: Policy, principal: Principal, nowMs: number): ListedTool[]
  readonly names: readonly string[]
}

function objectSchema(shape: z.ZodRawShape): JsonObject {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(z.object(shape), { io: 'input', unrepresentable: 'any' })
  return schema
}

function combinedAnnotations(tool: AnyToolDefinition, grants: readonly Grant[]): ToolAnnotations {
  const each = grants.map((grant) => tool.annotations(grant))
  return {
    readOnlyHint: each.every((a) => a.readOnlyHint),
    destructiveHint: each.some((a) => a.destructiveHint),
    idempotentHint: each.every((a) => a.idempotentHint === true),
    openWorldHint: each.some((a) => a.openWorldHint === true),
  }
}

function withConnectionEnum(entry: CatalogEntry, connections: readonly NamedConnection[]): ListedTool['inputSchema'] {
  const properties = (entry.inputJson.properties ?? {}) as JsonObject
  const required = Array.isArray(entry.inputJson.required) ? entry.inputJson.required : []
  return {
    ...entry.inputJson,
    type: 'object',
    properties: {
      connection: {
        type: 'string',
        enum: connections.map((c) => c.id),
        description: 'Which connection to use (only those you are granted are listed).',
      },
      ...properties,
    },
    required: ['connection', ...required],
  }
}

// Under an approval grant the agent may (or must, when the grant says so) tell the approver why.
function withApprovalReason(schema: ListedTool['inputSchema'], grants: readonly Grant[]): ListedTool['inputSchema'] {
  if (!grants.some((g) => g.approval !== undefined)) return schema
  const properties = (schema.properties ?? {}) as JsonObject
  return {
    ...schema,
    properties: {
      ...properties,
      [APPROVAL_REASON_ARG]: {
        type: 'string',
        minLength: 1,
        description: 'Why you need this call, for the human who approves it. Some calls need approval: the first call answers APPROVAL_PENDING with a request id; call again with the same arguments once it is approved.',
      },
    },
  }
}

/** The input schema with each named enum field narrowed to `choices` (its description kept). */
function withChoices(schema: ListedTool['inputSchema'], choices: Readonly<Record<string, readonly string[]>>): ListedTool['inputSchema'] {
  const properties = { ...((schema.properties ?? {}) as JsonObject) }
  for (const [field, values] of Object.entries(choices)) {
    const property = properties[field]
    if (typeof property !== 'object' || property === null || !Array.isArray((property as JsonObject).enum)) continue
    properties[field] = { ...property, enum: [...values] }
  }
  return { ...schema, properties }
}

/** Precomputes each tool's schemas once; listing per caller only adds the connection enum. */
export function createToolCatalog(tools: readonly AnyToolDefinition[]): ToolCatalog {
  const entries = new Map<string, CatalogEntry>()
  for (const tool of tools) {
    if (entries.has(tool.name)) throw new TypeError(`duplicate tool name ${tool.name}`)
    const shape = tool.connectionKinds.length > 0 ? { ...tool.input, connection: z.string().min(1) } : tool.input
    entries.set(tool.name, {
      tool,
      inputJson: objectSchema(tool.input),
      outputJson: tool.output === undefined ? undefined : objectSchema(tool.output),
      args: z.strictObject(shape),
    })
  }

  return {
    find: (name) => entries.get(name),
    names: [...entries.keys()],
    list(policy, principal, nowMs) {
      const listed: ListedTool[] = []
      for (const entry of entries.values()) {
        const { tool } = entry
        const access = toolAccess(policy, principal, { name: tool.name, connectionKinds: tool.connectionKinds }, nowMs, true)
        const usesConnections = tool.connectionKinds.length > 0
        const openToEveryone = tool.openToEveryone === true && !usesConnections
        if (access.grants.length === 0 && !openToEveryone) continue
        if (usesConnections && access.connections.length === 0) continue
        const inputSchema: ListedTool['inputSchema'] = usesConnections ? withConnectionEnum(entry, access.connections) : { ...entry.inputJson, type: 'object' }
        listed.push({
          name: tool.name,
          title: tool.title,
          description: tool.description,
          inputSchema: withApprovalReason(tool.inputChoices === undefined ? inputSchema : withChoices(inputSchema, tool.inputChoices(access.grants)), access.grants),
          ...(entry.outputJson === undefined ? {} : { outputSchema: { ...entry.outputJson, type: 'object' as const } }),
          annotations: { title: tool.title, ...combinedAnnotations(tool, access.grants.length === 0 ? [EVERYONE_GRANT] : access.grants) },
        })
      }
      return listed
    },
  }
}
