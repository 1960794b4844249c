import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
})

/** Where a frame's code lives: an npm package, a project folder, Node itself, or V8's own buckets. */
function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (pkg !== undefined) return pkg
  if (url.startsWith('node:')) return 'node internals'
  const own = /\/((?:src|tools)\/[^/]+)/.exec(url)?.[1]
  return own ?? url
}

const shortUrl = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/((?:src|tools|bench|test)\/)/, '$1')

/** Prints the newest .cpuprofile in `dir`: self time by area and the top functions, excluding idle. */
export async function printCpuProfile(dir: string, top = 20): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))
  const dated = await Promise.all(files.map(async (f) => ({ f, mtime: (await stat(join(dir, f))).mtimeMs })))
  const newest = dated.sort((a, b) => b.mtime - a.mtime)[0]
  if (newest === undefined) {
    console.log(`no CPU profile in ${dir}`)
    return
  }
  const profile = profileSchema.parse(JSON.parse(await readFile(join(dir, newest.f), 'utf8')))
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  let busy = 0
  for (const [i, id] of profile.samples.entries()) {
    const frame = frames.get(id)
    const micros = profile.timeDeltas[i] ?? 0
    if (frame === undefined || frame.functionName === '(idle)') continue
    busy += micros
    const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros)
    const where = area(frame.url, frame.functionName)
    byArea.set(where, (byArea.get(where) ?? 0) + micros)
  }
  const show = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n${title}`)
    for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${key}`)
    }
  }
  console.log(`\ngateway CPU profile ${newest.f}: ${(busy / 1000).toFixed(0)} ms on CPU (idle excluded)`)
  show('self time by area', byArea, 15)
  show('self time by function', byFunction, top)
}
