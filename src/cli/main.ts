import type { CliIo } from './cli-io.js'
import { crashLine } from './report-crash.js'
import { runCli } from './run-cli.js'

/** After a signal-driven stop has closed everything, how long a lingering socket (a hung AWS request) may keep the process. */
const LINGER_AFTER_SHUTDOWN_MS = 500

// The process entry point: the only place that reads argv, env and signals.
const shutdown = new AbortController()
const stop = () => shutdown.abort()
// Listening for the whole run: a second signal during the drain must not kill the process before the audit is closed.
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  shutdown: shutdown.signal,
  exit: (code) => process.exit(code),
}
const debug = process.env.AIRLOCK_DEBUG === '1'
// Whatever escapes a command (or fails later, outside it) is one line on stderr and exit 1.
const crash = (error: unknown): void => {
  process.stderr.write(crashLine(error, debug))
  process.exit(1)
}
process.on('uncaughtException', crash)
process.on('unhandledRejection', crash)
try {
  process.exitCode = await runCli(process.argv.slice(2), io)
} catch (error) {
  crash(error)
}
process.off('SIGINT', stop)
process.off('SIGTERM', stop)
if (shutdown.signal.aborted) setTimeout(() => process.exit(), LINGER_AFTER_SHUTDOWN_MS).unref()
