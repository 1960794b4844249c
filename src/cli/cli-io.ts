/** What a CLI command may touch; injected so every command is testable in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborted on SIGINT/SIGTERM; long-running commands (serve, sandbox) stop cleanly when it fires. */
  readonly shutdown?: AbortSignal
  /** Ends the process now with `code`: the last resort when a shutdown overruns its deadline. Absent in-process. */
  readonly exit?: (code: number) => void
}

/** A subcommand: returns the process exit code. */
export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<number>
