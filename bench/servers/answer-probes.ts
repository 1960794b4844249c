/**
 * The bench server's half of spawn-server's protocol: `READY <url>` once listening, and answers
 * to the load generator's signals — SIGUSR2: collect garbage, then `GC <memoryUsage>` (so garbage
 * does not count as sessions in RSS); SIGWINCH: `CPU <cpuUsage>` (read around a run to share the
 * server's CPU time out per call).
 */
export function announceReady(url: string): void {
  process.stdout.write(`READY ${url}\n`)
  process.on('SIGUSR2', () => {
    globalThis.gc?.()
    process.stdout.write(`GC ${JSON.stringify(process.memoryUsage())}\n`)
  })
  process.on('SIGWINCH', () => {
    process.stdout.write(`CPU ${JSON.stringify(process.cpuUsage())}\n`)
  })
}
