import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

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

export interface ProfileAnswers {
  /** Writes a profile still running (so SIGTERM does not lose it). */
  flush(): Promise<void>
}

/**
 * SIGHUP starts a CPU profile (after the load generator's warm-up, so start-up and first-call
 * loading stay out of it); the next SIGHUP writes it into `dir` as `<name>-<pid>-<n>.cpuprofile`
 * and prints `PROFILE <file>`. Without a directory, SIGHUP does nothing.
 */
export function answerProfileRequests(dir: string | undefined, name: string): ProfileAnswers {
  const inspector = new Session()
  let profiling = false
  let profiles = 0
  async function write(): Promise<void> {
    if (!profiling || dir === undefined) return
    profiling = false
    const { profile } = await inspector.post('Profiler.stop')
    profiles += 1
    const file = join(dir, `${name}-${process.pid}-${profiles}.cpuprofile`)
    await writeFile(file, JSON.stringify(profile))
    process.stdout.write(`PROFILE ${file}\n`)
  }
  process.on('SIGHUP', () => {
    if (dir === undefined) return
    if (profiling) {
      void write()
      return
    }
    profiling = true
    if (profiles === 0) inspector.connect()
    void inspector.post('Profiler.enable').then(() => inspector.post('Profiler.start'))
  })
  return { flush: write }
}
