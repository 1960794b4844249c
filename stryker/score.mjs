// Scores a Stryker JSON report the way README.md counts: killed + timed out over all valid mutants,
// leaving out the survivors listed in equivalent-mutants.json (matched by file, line:column and
// mutator). Prints one line per mutated file, then each survivor that is not listed.
// Usage: node stryker/score.mjs reports/mutation/call-tool.json
import { readFileSync } from 'node:fs'

const reportPath = process.argv[2]
if (reportPath === undefined) {
  console.error('usage: node stryker/score.mjs <stryker json report>')
  process.exit(2)
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'))
const listed = JSON.parse(readFileSync(new URL('./equivalent-mutants.json', import.meta.url), 'utf8'))

let unlisted = 0
for (const [file, { mutants }] of Object.entries(report.files)) {
  const entries = listed[file] ?? []
  const isListed = (m) => entries.some((e) => e.at === `${m.location.start.line}:${m.location.start.column}` && e.mutator === m.mutatorName)
  const valid = mutants.filter((m) => m.status !== 'CompileError' && m.status !== 'RuntimeError' && m.status !== 'Ignored')
  const count = (status) => valid.filter((m) => m.status === status).length
  const killed = count('Killed')
  const timedOut = count('Timeout')
  const survivors = valid.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
  const equivalent = survivors.filter(isListed)
  const counted = valid.length - equivalent.length
  const score = counted === 0 ? 100 : (100 * (killed + timedOut)) / counted
  console.log(
    `${file}: ${valid.length} mutants, ${killed} killed, ${timedOut} timed out, ${survivors.length} survived, ` +
      `${equivalent.length} listed equivalent, score excluding listed ${score.toFixed(1)}%`,
  )
  const sameMutant = (e) => (m) => `${m.location.start.line}:${m.location.start.column}` === e.at && m.mutatorName === e.mutator
  for (const e of entries.filter((e) => !survivors.some(sameMutant(e)))) {
    // In a run narrowed with --mutate, entries outside the ranges are simply not tested.
    const why = valid.some(sameMutant(e)) ? 'now killed: drop it from the list' : 'not mutated in this run (narrowed, or its line moved)'
    console.log(`  listed ${e.at} ${e.mutator}: ${why}`)
  }
  for (const m of survivors.filter((s) => !isListed(s))) {
    unlisted++
    console.log(`  survived ${m.location.start.line}:${m.location.start.column} ${m.mutatorName}: ${m.replacement ?? ''}`.slice(0, 240))
  }
}
process.exitCode = unlisted === 0 ? 0 : 1
