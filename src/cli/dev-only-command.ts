import type { CliCommand } from './cli-io.js'

/**
 * Wraps the loader of a command that only a full install carries (the sandbox and its dev IdP):
 * a production install leaves out its modules and their dependencies, so "module not found"
 * becomes one clear line and exit 1 instead of a stack trace. Anything else is rethrown.
 */
export function devOnlyCommand(name: string, load: () => Promise<CliCommand>): () => Promise<CliCommand> {
  return async function loadDevOnly() {
    try {
      return await load()
    } catch (error) {
      if (!isModuleNotFound(error)) throw error
      return async function notInstalled(_argv, io) {
        io.stderr(`airlock: \`${name}\` needs a full install (a checkout and \`npm install\`); a production install leaves out the sandbox\n`)
        return 1
      }
    }
  }
}

function isModuleNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ERR_MODULE_NOT_FOUND'
}
