import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { AirlockError, AuditError, AuthError, ConfigError, GuardError, InputError, InternalError, PolicyError, StateError, UpstreamError } from '../../src/errors.js'
import { callerError, fixedText } from '../../src/mcp/tool-error-text.js'

describe('what the agent is told about errors', () => {
  it('has a sentence of its own for every code an agent can meet', async () => {
    const source = await readFile('src/errors.ts', 'utf8')
    const unions = ['PolicyErrorCode', 'InputErrorCode', 'GuardErrorCode', 'UpstreamErrorCode', 'StateErrorCode', 'InternalErrorCode']
    const sentences = new Map<string, string>()
    for (const union of unions) {
      const body = new RegExp(`export type ${union} =([^]*?)\\n(?:export|/\\*\\*|$)`).exec(source)?.[1] ?? ''
      const codes = [...body.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1] ?? '')
      assert.ok(codes.length > 0, `${union} found`)
      // The unions are what the caller-text table is keyed by, so any code parsed here is accepted.
      for (const code of codes) sentences.set(code, fixedText(code as Parameters<typeof fixedText>[0]))
    }
    sentences.set('AUDIT_UNAVAILABLE', fixedText('AUDIT_UNAVAILABLE'))
    for (const code of ['UNKNOWN_TOOL', 'AUDIT_UNAVAILABLE', 'INTERNAL', 'CANCELLED', 'K8S_FORBIDDEN', 'OIDC_UNAVAILABLE', 'GRANT_EXPIRED', 'SIGN_IN_REQUIRED', 'RATE_LIMITED', 'STATE_UNAVAILABLE']) assert.ok(sentences.has(code), `${code} is a caller code`)
    for (const [code, text] of sentences) {
      assert.equal(typeof text, 'string', code)
      assert.ok(text.length > 10, `${code} needs a caller sentence`)
      if (code !== 'INTERNAL') assert.notEqual(text, fixedText('INTERNAL'), `${code} needs a sentence of its own`)
    }
    assert.equal(new Set(sentences.values()).size, sentences.size, 'no two codes share a sentence')
  })

  it('refuses, at compile time, a code that has no sentence', () => {
    // @ts-expect-error: not a caller code, so it has no sentence (tsc fails if fixedText took any string)
    assert.equal(fixedText('NOT_A_CODE'), undefined)
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

  it('maps every other family to a caller code without its message', () => {
    const cases: [unknown, string][] = [
      [new AuditError('AUDIT_WRITE_FAILED', 'ENOSPC /var/log/airlock/audit.jsonl'), 'AUDIT_UNAVAILABLE'],
      [new AuditError('AUDIT_CLOSED', 'closed at /var/log/airlock'), 'AUDIT_UNAVAILABLE'],
      [new StateError('STATE_UNAVAILABLE', 'Redis script at redis://:secret@/srv failed'), 'STATE_UNAVAILABLE'],
      [new ConfigError('CONFIG_INVALID', 'policy at /etc/airlock broken'), 'INTERNAL'],
      [new AuthError('AUTH_INVALID', 'bad_signature', 'token eyJhbGciOi'), 'INTERNAL'],
      [new InternalError('INTERNAL', 'bug at /srv/airlock'), 'INTERNAL'],
      [new AirlockError('SOMETHING_ELSE', 'at /srv/airlock'), 'INTERNAL'],
      [new TypeError('x is not a function at /srv'), 'INTERNAL'],
      ['a thrown string /srv', 'INTERNAL'],
    ]
    for (const [error, code] of cases) {
      const mapped = callerError(error)
      assert.equal(mapped.code, code)
      assert.doesNotMatch(mapped.text, /\/var|\/etc|\/srv|eyJ/)
    }
  })

  it('caps and cleans caller-derived messages it echoes', () => {
    const huge = callerError(new InputError('INPUT_INVALID', `Unrecognized key: "${'k'.repeat(900_000)}"`))
    assert.ok(huge.text.length < 700, `capped to ${huge.text.length}`)
    assert.match(huge.text, /altered: 900020 chars, sha256 [0-9a-f]{16}/)
    const bidi = callerError(new PolicyError('POLICY_DENIED', 'You have no grant for tool evil\u202Egnp.exe\u0000\u001b[31m.'))
    assert.doesNotMatch(bidi.text, /[\u202E\u0000\u001b]/)
    const detail = callerError(new UpstreamError('DB_ERROR', 'raw', { publicDetail: `syntax error at "${'x'.repeat(100_000)}"` }))
    assert.ok(detail.text.length < 700, 'expected: detail.text.length < 700')
  })
})
