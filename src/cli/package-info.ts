import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

const HERE = fileURLToPath(import.meta.url)

/** The directory holding package.json: the checkout or the installed package, from src/ (tsx) or dist/. */
export function packageRoot(): string {
  let dir = dirname(HERE)
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new TypeError(`no package.json above ${HERE}`)
    dir = parent
  }
  return dir
}

/** `version` from package.json, for `airlock --version`. */
export function packageVersion(): string {
  const pkg = z.looseObject({ version: z.string() }).parse(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')))
  return pkg.version
}
