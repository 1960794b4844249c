import { readFile } from 'node:fs/promises'
import { z } from 'zod'

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
})

/** Where a request's time goes in the gateway, by the code that spends it. */
export const STAGES = [
  'token verification',
  'session lookup',
  'policy',
  'limits + activations',
  'guard',
  'masking',
  'audit',
  'call pipeline',
  'tools/list',
  'MCP framing',
  'HTTP handling',
  'tool + AWS/k8s client',
  'metrics + logging',
  'node runtime (http, net, timers)',
  'GC',
  'other',
] as const
export type Stage = (typeof STAGES)[number]

// Own code, most specific first. A frame whose code is in none of these (zod, Node's own modules,
// V8 builtins) is charged to the nearest caller that is: a zod parse in the call pipeline counts there.
const OWN: readonly (readonly [RegExp, Stage])[] = [
  [/\/src\/auth\/|\/src\/jws-algorithms\.ts/, 'token verification'],
  [/\/src\/audit\/hash-session-id\.ts/, 'session lookup'],
  [/\/src\/state\/(memory|redis)-session-store\.ts/, 'session lookup'],
  [/\/src\/mcp\/legacy-lane\.ts/, 'session lookup'],
  [/\/src\/state\//, 'limits + activations'],
  [/\/src\/mcp\/admit-call\.ts/, 'limits + activations'],
  [/\/src\/policy\//, 'policy'],
  [/\/src\/mcp\/scope-gate\.ts/, 'policy'],
  [/\/src\/mcp\/tool-catalog\.ts/, 'tools/list'],
  [/\/src\/guard\/masking\//, 'masking'],
  [/\/src\/guard\//, 'guard'],
  [/\/src\/audit\//, 'audit'],
  [/\/src\/mcp\/audit-sampling\.ts|\/src\/mcp\/record-sampler\.ts/, 'audit'],
  [/\/src\/mcp\/(session-server|modern-lane|wrap-non-object-arguments)\.ts/, 'MCP framing'],
  [/\/src\/mcp\/(call-tool|cap-audit-fields|cap-caller-text|hash-args|tool-error-text)\.ts/, 'call pipeline'],
  [/\/src\/mcp\//, 'HTTP handling'],
  [/\/src\/metrics\/|\/src\/cli\/(logger|format-log-line)\.ts/, 'metrics + logging'],
  [/\/src\/(aws|cli)\/|\/tools\//, 'tool + AWS/k8s client'],
]
const PACKAGES: readonly (readonly [RegExp, Stage])[] = [
  [/node_modules\/jose\//, 'token verification'],
  [/node_modules\/@modelcontextprotocol\/|node_modules\/ajv/, 'MCP framing'],
  [/node_modules\/(libpg-query|node-sql-parser|sh-syntax)\//, 'guard'],
  [/node_modules\/(@aws-sdk|@smithy|@kubernetes|@aws-crypto)\//, 'tool + AWS/k8s client'],
  [/node_modules\/(pino|prom-client|sonic-boom)/, 'metrics + logging'],
]

function stageOf(url: string, functionName: string): Stage | undefined {
  if (url === '') return functionName === '(garbage collector)' ? 'GC' : undefined
  for (const [pattern, stage] of PACKAGES) if (pattern.test(url)) return stage
  if (url.includes('node_modules/')) return undefined
  // Node's own modules, the bench harness's frames and shared helpers (clock, errors, canonical JSON).
  if (url.startsWith('node:') || /\/bench\/(servers|lib)\/|\/src\/(clock|errors|canonical-json)\.ts/.test(url)) return undefined
  for (const [pattern, stage] of OWN) if (pattern.test(url)) return stage
  return 'other'
}

export interface StageProfile {
  /** CPU time on the gateway's thread while profiling, idle excluded, in ms. */
  readonly busyMs: number
  /** Per stage, in ms over the whole profile. */
  readonly stages: Record<Stage, number>
  /** The code charged to `other` most, in ms, to show what the stages miss. */
  readonly otherTop: readonly (readonly [string, number])[]
}

/**
 * Reads a .cpuprofile and charges each sample to the stage of the nearest frame on its stack that
 * is own code or a package with a stage (see {@link STAGES}); a stack with none is Node's own work
 * (HTTP parsing, sockets, timers).
 */
export async function profileStages(file: string): Promise<StageProfile> {
  const profile = profileSchema.parse(JSON.parse(await readFile(file, 'utf8')))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const cache = new Map<number, Stage | 'idle'>()
  const otherAt = new Map<number, string>()
  const resolve = (id: number): Stage | 'idle' => {
    const known = cache.get(id)
    if (known !== undefined) return known
    let stage: Stage | 'idle' = 'node runtime (http, net, timers)'
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame === undefined) break
      // The profiler's own work (stopping and serialising the profile) is not the gateway's.
      if (frame.functionName === '(idle)' || frame.url === 'node:inspector') {
        stage = 'idle'
        break
      }
      const own = stageOf(frame.url, frame.functionName)
      if (own !== undefined) {
        stage = own
        if (own === 'other') otherAt.set(id, `${frame.functionName} ${frame.url}`)
        break
      }
    }
    cache.set(id, stage)
    return stage
  }
  const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>
  let busy = 0
  const other = new Map<string, number>()
  for (const [i, id] of profile.samples.entries()) {
    const stage = resolve(id)
    if (stage === 'idle') continue
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    stages[stage] += ms
    busy += ms
    const where = otherAt.get(id)
    if (where !== undefined) other.set(where, (other.get(where) ?? 0) + ms)
  }
  return { busyMs: busy, stages, otherTop: [...other].sort((a, b) => b[1] - a[1]).slice(0, 8) }
}
