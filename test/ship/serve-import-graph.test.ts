import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'
import ts from 'typescript'
import { z } from 'zod'

const ROOT = resolve(import.meta.dirname, '..', '..')
const manifest = z.looseObject({ dependencies: z.record(z.string(), z.string()), devDependencies: z.record(z.string(), z.string()), files: z.array(z.string()) }).parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')))

/** Commands only a full install carries; run-cli's table loads them through devOnlyCommand. */
const DEV_ONLY_ENTRIES = ['src/cli/sandbox-command.ts', 'src/cli/token-command.ts']
const RUN_CLI = 'src/cli/run-cli.ts'

function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier)
}

/**
 * Every source file the CLI can load (static and dynamic imports) and the packages they import,
 * except what run-cli's command table loads for the dev-only commands.
 */
function importGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>()
  const packages = new Map<string, string>()
  const queue = [entry]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue
    files.add(file)
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true)
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), fileName.replace(/\.js$/, '.ts')))
        assert.ok(existsSync(join(ROOT, target)), `${file} imports ${fileName}, which does not exist`)
        if (!(file === RUN_CLI && DEV_ONLY_ENTRIES.includes(target))) queue.push(target)
      } else if (!fileName.startsWith('node:') && !builtinModules.includes(fileName)) {
        packages.set(packageName(fileName), file)
      }
    }
  }
  return { files, packages }
}

describe('what a production install loads', () => {
  const graph = importGraph('src/cli/main.ts')

  it('loads the dev-only commands through devOnlyCommand', () => {
    const table = readFileSync(join(ROOT, RUN_CLI), 'utf8')
    for (const file of DEV_ONLY_ENTRIES) {
      const module = file.replace('src/cli/', './').replace(/\.ts$/, '.js')
      const imports = table.split('\n').filter((line) => line.includes(`'${module}'`))
      assert.ok(imports.length > 0, `${RUN_CLI} does not load ${module}`)
      for (const line of imports) assert.match(line, /devOnlyCommand\('[a-z-]+', async \(\) => \(await import\(/, line)
    }
  })

  it('reaches serve and the tools, but not the dev-only commands', () => {
    for (const file of ['src/cli/serve-command.ts', 'src/cli/start-gateway.ts', 'tools/index.ts']) {
      assert.ok(graph.files.has(file), `${file} is not reached from main.ts: the graph walk is broken`)
    }
    for (const file of DEV_ONLY_ENTRIES) assert.ok(!graph.files.has(file), file)
  })

  it('never loads src/sandbox', () => {
    const sandbox = [...graph.files].filter((f) => f.startsWith('src/sandbox/'))
    assert.deepEqual(sandbox, [])
  })

  it('imports only production dependencies', () => {
    const notProduction = [...graph.packages].filter(([name]) => manifest.dependencies[name] === undefined).map(([name, file]) => `${name} (from ${file})`)
    assert.deepEqual(notProduction, [])
  })

  it('ships every file it loads: none falls under an exclusion in package.json files', () => {
    const exclusions = manifest.files.filter((f) => f.startsWith('!')).map((f) => f.slice(1).replace(/^dist\//, ''))
    const excluded = [...graph.files].filter((file) =>
      exclusions.some((pattern) => (pattern.endsWith('/') ? file.startsWith(pattern) : new RegExp(`^${pattern.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`).test(file))),
    )
    assert.deepEqual(excluded, [])
  })

  it('leaves the sandbox dependencies and the compiler to the development install', () => {
    for (const name of ['tsx', 'typescript', 'oidc-provider', '@electric-sql/pglite', 'mysql2', '@peculiar/x509']) {
      assert.equal(manifest.dependencies[name], undefined, name)
      assert.notEqual(manifest.devDependencies[name], undefined, name)
    }
  })

  it('pins sh-syntax exactly: the shell guard drives its WebAssembly interface by position', () => {
    assert.match(manifest.dependencies['sh-syntax'] ?? '', /^\d+\.\d+\.\d+$/)
  })
})
