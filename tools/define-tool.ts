import type { z } from 'zod'
import type { Principal } from '../src/auth/principal.js'
import type { AwsClients } from '../src/aws/aws-clients.js'
import type { BoundedCache } from '../src/aws/bounded-cache.js'
import type { Clock } from '../src/clock.js'
import type { Connection, ConnectionKind, NamedConnection } from '../src/policy/connection-schema.js'
import type { OutputDetectorName } from '../src/policy/output-detectors.js'
import type { Grant } from '../src/policy/policy-schema.js'
import type { Policy, PolicyGrant } from '../src/policy/policy.js'
import type { ApprovalService } from '../src/approvals/approval-service.js'
import type { Activation } from '../src/state/activation-store.js'
import type { KubeRuntime } from './kubectl/kube-runtime.js'
import type { InstanceResolver } from './ssm-run/resolve-instance.js'

/** What every tool handler may use; the gateway builds it once (src/cli, createToolDeps) and passes it down. */
export interface ToolDeps {
  readonly aws: AwsClients
  readonly clock: Clock
  /** kubectl's cluster descriptions, EKS tokens and API clients, kept across calls. */
  readonly kube: KubeRuntime
  /** ssm_run's instance lookups, kept briefly across calls. */
  readonly instances: InstanceResolver
  /** sql_query's answer to "is this MySQL-engine cluster MariaDB?", per resourceArn. */
  readonly mysqlFlavours: BoundedCache<boolean>
  /** Every registered tool's name and connection kinds (for tools that describe access). */
  readonly tools?: readonly { readonly name: string; readonly connectionKinds: readonly ConnectionKind[] }[]
}

export interface ProgressUpdate {
  readonly progress: number
  readonly total?: number
  readonly message?: string
}

/** The caller's stored access periods (activations) under these grants, by grant id; rejects with StateError when the store cannot answer. */
export type ActivationLookup = (grantIds: readonly string[]) => Promise<ReadonlyMap<string, Activation>>

export interface ToolContext<Args, K extends ConnectionKind | never = ConnectionKind> {
  readonly principal: Principal
  /** The grant that allowed this call (re-evaluated at call time), its constraint blocks already resolved. */
  readonly grant: PolicyGrant
  /** The connection named by the call; undefined for tools that use none. */
  readonly connection: [K] extends [never] ? undefined : NamedConnection<Extract<Connection, { kind: K }>>
  readonly args: Args
  readonly deps: ToolDeps
  /** Aborted when the client cancels the request or the gateway shuts down. */
  readonly signal: AbortSignal
  /** Sends an MCP progress notification when the client asked for them; otherwise a no-op. */
  readonly progress: (update: ProgressUpdate) => Promise<void>
  /** For tools that show the caller's access periods (whoami, list_connections). */
  readonly activations: ActivationLookup
  /** The policy snapshot that allowed this call (for tools that describe access, such as list_connections). */
  readonly policy: Policy
  /** The approval flow, for the review tools; absent where approvals are not wired (then they refuse). */
  readonly approvals?: ApprovalService | undefined
}

/** What a handler returns; errors are thrown as AirlockError subclasses and mapped by src/mcp. */
export interface ToolResult {
  /** Compact text for models. */
  readonly text: string
  /** Must match `outputSchema` when the tool declares one. */
  readonly structured?: Record<string, unknown>
  /** Extra facts for the audit record (never secrets or parameter values). */
  readonly audit?: Record<string, unknown>
}

export interface ToolAnnotations {
  readonly readOnlyHint: boolean
  readonly destructiveHint: boolean
  readonly idempotentHint?: boolean
  readonly openWorldHint?: boolean
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape, K extends ConnectionKind | never = ConnectionKind> {
  readonly name: string
  readonly title: string
  readonly description: string
  /** Connection kinds this tool serves; empty for tools that take no `connection` argument. */
  readonly connectionKinds: readonly K[]
  /**
   * Any authenticated caller may call it, with or without a grant that lists it (whoami: it shows
   * only the caller's own identity). Only for tools that take no connection.
   */
  readonly openToEveryone?: boolean
  /** Input fields other than `connection` (added by the gateway as an enum of the caller's connections). */
  readonly input: Shape
  readonly output?: z.ZodRawShape
  /**
   * Enum inputs narrowed to what the caller's usable grants for this tool allow, by field name, as
   * tools/list shows them (kubectl: `verb`, `resource`); the gateway still decides every call.
   */
  inputChoices?(grants: readonly Grant[]): Readonly<Record<string, readonly string[]>>
  /** Hints shown in tools/list, derived from the caller's grant for this tool (worst case across grants). */
  annotations(grant: Grant): ToolAnnotations
  /**
   * Output detectors the grant turns off for this tool only, on top of its `detectors` block
   * (sql_query: `sql.detectors`). The gateway runs the rest over the output of every tool that
   * reaches a system; tools without connection kinds return only the caller's own claims and the policy.
   */
  outputDetectors?(grant: Grant): Partial<Record<OutputDetectorName, boolean>>
  /**
   * Whether the grant's constraint block allows these (validated) arguments, checked without
   * side effects. When the deciding grant does not but an approval grant for the same tool and
   * connection does, the call goes to that grant's approval (a read grant must not hide the
   * approval grant of a write).
   */
  permits?(grant: Grant, args: z.infer<z.ZodObject<Shape>>): boolean
  handler(ctx: ToolContext<z.infer<z.ZodObject<Shape>>, K>): Promise<ToolResult>
}

/** Identity function that keeps a tool's types precise; each file in tools/ default-exports one. */
export function defineTool<Shape extends z.ZodRawShape, K extends ConnectionKind | never = never>(
  tool: ToolDefinition<Shape, K>,
): ToolDefinition<Shape, K> {
  return tool
}

/** The context as the gateway builds it for any tool: a connection for tools that take one, else undefined. */
export type AnyToolContext = Omit<ToolContext<Record<string, unknown>, ConnectionKind>, 'connection'> & {
  readonly connection: NamedConnection | undefined
}

/** Any tool, as the registry holds them (each tool's handler types are checked by defineTool). */
export interface AnyToolDefinition extends Omit<ToolDefinition<z.ZodRawShape, ConnectionKind>, 'handler'> {
  handler(ctx: AnyToolContext): Promise<ToolResult>
}
