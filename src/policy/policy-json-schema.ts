import { z } from 'zod'
import { DEFAULT_PENDING_TTL_SECONDS, DEFAULT_TTL_SECONDS, policyFileSchema } from './policy-schema.js'

export const POLICY_SCHEMA_ID = 'urn:airlock:policy-file:v1'

// Help text shown by editors; keyed by the property path inside the generated schema.
const DESCRIPTIONS: readonly (readonly [readonly string[], string])[] = [
  [['$schema'], 'Path or URL of this JSON Schema, for editors.'],
  [['version'], 'Policy file format version; always 1.'],
  [['connections'], 'AWS resources the gateway may reach, by id. The gateway calls AWS as itself, never with the agent\'s token.'],
  [['grants'], 'Who may use which tools on which connections. Deny by default; the first matching grant in file order decides.'],
  [['grants', 'id'], 'Stable id, recorded in every audit event this grant decides.'],
  [['grants', 'groups'], 'Any of these groups (from the token\'s groups claim), compared exactly.'],
  [['grants', 'subjects'], 'Or any of these exact token subjects (`sub`), compared exactly.'],
  [['grants', 'connections'], 'Connection ids this grant reaches; empty for tools that use no connection.'],
  [['grants', 'tools'], 'Tool names this grant allows, e.g. "sql_query".'],
  [['grants', 'ttl'], 'How long a subject\'s access period under this grant lasts, from their first call under it, e.g. "15m"; at most "12h". After it, a fresh sign-in starts a new period.'],
  [['grants', 'notAfter'], 'The grant stops working at this instant (ISO 8601 with offset).'],
  [['grants', 'approval'], 'Each call under this grant waits for a human in one of approverGroups to approve exactly that call (tool, connection, canonical arguments); never by the caller themselves. use "once": the approval buys one run; use "window": the same call may run again until accessTtl (capped by the grant\'s ttl) has passed.'],
  [['grants', 'limits'], 'Per subject under this grant, on top of the gateway-wide per-subject limits.'],
  [['grants', 'limits', 'callsPerMinute'], 'Calls per sliding minute; more are refused with RATE_LIMITED and a retry-after.'],
  [['grants', 'limits', 'concurrentCalls'], 'Calls in flight at once, across every replica.'],
  [['grants', 'sql'], 'Limits for sql_query on rds-data connections.'],
  [['grants', 'sql', 'allowSystemCatalogs'], 'Let statements read system catalogs and server state: pg_authid, pg_stat_activity, pg_settings, mysql.user, information_schema.PROCESSLIST, performance_schema, sys, SHOW PROCESSLIST/GRANTS, server settings and variables. Off by default, since with a privileged database user these hold password hashes and other sessions\' SQL; a few schema-describing catalog reads (information_schema.tables/columns, pg_class, ...) work either way. Changing system objects is refused regardless.'],
  [['grants', 'ssm'], 'Limits for ssm_run: argv templates of the only commands allowed.'],
  [['grants', 'kubectl'], 'Limits for kubectl on eks connections.'],
  [['grants', 'detectors'], 'Value detectors run over the output of every tool this grant allows that reaches a system (sql_query, ssm_run, kubectl): AWS keys, emails, card numbers, JWTs, private keys and named secrets (password=…, --token …, URL passwords, Authorization headers) are replaced by [redacted:<kind>]. All on when absent; false turns one off. For sql_query, sql.detectors can only turn more off.'],
  [['toolScopes'], 'OAuth scopes a token must all carry to call a tool, by tool name, e.g. {"sql_query": ["airlock.sql"]}. A call without them gets HTTP 403 insufficient_scope naming them, so the client can ask the authorization server for them (step-up). On top of the grants, never instead of them; tools not listed need no scope. Each tool\'s scopes are set in one file.'],
]

/** The JSON Schema (draft-07) for policy files as people write them, generated from the zod schema. */
export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(policyFileSchema, { io: 'input', target: 'draft-7', unrepresentable: 'throw' })
  const schema: Record<string, unknown> = {
    $schema: generated.$schema,
    $id: POLICY_SCHEMA_ID,
    title: 'Airlock policy file',
    description: 'Connections and grants for the Airlock MCP gateway. Several files are merged; ids are unique across them.',
    ...withoutKey(generated, '$schema'),
  }
  for (const [path, description] of DESCRIPTIONS) {
    const node = propertyAt(schema, path)
    if (node === undefined) throw new TypeError(`policy schema has no property ${path.join('.')}`)
    node.description = description
  }
  const ttl = propertyAt(schema, ['grants', 'ttl'])
  // The ttl default is stored in seconds after parsing; show it the way people write it.
  if (ttl !== undefined) ttl.default = `${DEFAULT_TTL_SECONDS / 60}m`
  const approval = propertyAt(schema, ['grants', 'approval'])
  for (const variant of Array.isArray(approval?.anyOf) ? approval.anyOf : []) {
    const pending = isRecord(variant) && isRecord(variant.properties) ? variant.properties.pendingTtl : undefined
    if (isRecord(pending)) {
      pending.default = `${DEFAULT_PENDING_TTL_SECONDS / 60}m`
      pending.description = 'How long a request may wait for a decision before it expires, e.g. "10m".'
    }
  }
  return schema
}

function withoutKey(object: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => k !== key))
}

// Walks `properties` (and array `items`) down a path of property names.
function propertyAt(schema: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
  let node: unknown = schema
  for (const name of path) {
    if (isRecord(node) && isRecord(node.items)) node = node.items
    node = isRecord(node) && isRecord(node.properties) ? node.properties[name] : undefined
  }
  return isRecord(node) ? node : undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
