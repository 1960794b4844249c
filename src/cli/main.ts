import type { CliIo } from './cli-io.js'
import { runCli } from './run-cli.js'

// The process entry point: the only place that reads argv, env and signals.
const shutdown = new AbortController()
const stop = () => shutdown.abort()
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  shutdown: shutdown.signal,
}
process.exitCode = await runCli(process.argv.slice(2), io)
process.off('SIGINT', stop)
process.off('SIGTERM', stop)
