// Plain JavaScript: node:test loads reporters before `--import tsx` is in place.
import { relative } from 'node:path'
import { tap } from 'node:test/reporters'

/**
 * The TAP reporter, plus one `# failed:` line per failing test just before the summary counts.
 * A CI log is often read from its tail, and in 4,000 TAP results a single `not ok` is easy to lose.
 * @param {AsyncIterable<{ type: string, data: any }>} source
 */
export default async function* failureRecapReporter(source) {
  yield* tap(withRecap(source))
}

/** @param {AsyncIterable<{ type: string, data: any }>} source */
async function* withRecap(source) {
  const failures = []
  const names = new Map()
  let recapped = false
  for await (const event of source) {
    const { data } = event
    if (event.type === 'test:start') {
      const chain = names.get(data.file) ?? []
      chain.length = data.nesting ?? 0
      chain.push(data.name)
      names.set(data.file, chain)
    }
    if (event.type === 'test:fail' && data.details?.type !== 'suite') failures.push(describeFailure(data, names))
    if (!recapped && event.type === 'test:diagnostic' && data.nesting === 0 && String(data.message).startsWith('tests ')) {
      recapped = true
      for (const line of failures) yield { type: 'test:diagnostic', data: { nesting: 0, message: `failed: ${line}` } }
    }
    yield event
  }
}

function describeFailure(data, names) {
  const where = data.file ? `${relative(process.cwd(), data.file)}:${data.line ?? 0}` : '(unknown file)'
  const chain = (names.get(data.file) ?? []).slice(0, data.nesting ?? 0)
  const error = data.details?.error
  const text = String(error?.cause?.message ?? error?.message ?? error?.failureType ?? 'failed')
  const reason = text.split('\n').find((line) => line.trim() !== '') ?? 'failed'
  return `${where} ${[...chain, data.name].join(' › ')}: ${reason.slice(0, 300)}`
}
