import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { GuardError, PolicyError, UpstreamError } from '../../src/errors.js'
import { callerError, fixedText } from '../../src/mcp/tool-error-text.js'

describe('what the agent is told about errors', () => {
  it('has a sentence of its own for every code an agent can meet', async () => {
    const source = await readFile('src/errors.ts', 'utf8')
    const unions = ['PolicyErrorCode', 'InputErrorCode', 'GuardErrorCode', 'UpstreamErrorCode']
    const generic = fixedText('INTERNAL')
    for (const union of unions) {
      const body = new RegExp(`export type ${union} =([^]*?)\\n(?:export|$)`).exec(source)?.[1] ?? ''
      const codes = [...body.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1] ?? '')
      assert.ok(codes.length > 0, `${union} found`)
      for (const code of codes) assert.notEqual(fixedText(code), generic, `${code} needs a caller sentence`)
    }
  })

  it('passes on guard and policy messages, upstream public detail only, and hides everything else', () => {
    assert.match(callerError(new GuardError('SQL_NOT_READ_ONLY', 'statement calls set_config')).text, /set_config/)
    assert.match(callerError(new PolicyError('POLICY_DENIED', 'You have no grant for tool x.')).text, /no grant/)
    const upstream = callerError(new UpstreamError('AWS_DENIED', 'AccessDeniedException: User arn:aws:sts::1:assumed-role/x is not authorized'))
    assert.doesNotMatch(upstream.text, /arn:aws/)
    assert.match(callerError(new UpstreamError('DB_ERROR', 'raw', { publicDetail: 'relation "x" does not exist' })).text, /relation "x"/)
    const internal = callerError(new Error('ENOENT /var/lib/airlock/secret'))
    assert.equal(internal.code, 'INTERNAL')
    assert.doesNotMatch(internal.text, /ENOENT|var\/lib/)
  })
})
