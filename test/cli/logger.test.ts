import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { createLogger, describeError, scrubText } from '../../src/cli/logger.js'
import { UpstreamError } from '../../src/errors.js'

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz'
const line = z.looseObject({ level: z.string(), time: z.string(), msg: z.string(), pid: z.number(), hostname: z.string() })

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = []
  const logger = createLogger((text) => lines.push(text), () => Date.parse('2026-11-29T12:00:00.000Z'), level === undefined ? {} : { level })
  return { logger, lines, parsed: () => lines.map((text) => line.parse(JSON.parse(text))) }
}

describe('createLogger (pino JSON lines)', () => {
  it('writes one JSON object per line with level, time, msg and the fields', () => {
    const { logger, lines, parsed } = capture()
    logger.info('tool call', { correlationId: 'abc123', tool: 'whoami', durationMs: 4 })
    logger.warn('slow', { n: 1 })
    assert.equal(lines.length, 2)
    for (const text of lines) assert.ok(text.endsWith('}\n') && !text.slice(0, -1).includes('\n'), `one line: ${text}`)
    const [first, second] = parsed()
    assert.deepEqual({ ...first, pid: 0, hostname: '' }, { level: 'info', time: '2026-11-29T12:00:00.000Z', pid: 0, hostname: '', correlationId: 'abc123', tool: 'whoami', durationMs: 4, msg: 'tool call' })
    assert.equal(second?.level, 'warn')
  })

  it('drops lines below its level', () => {
    const { logger, lines } = capture('warn')
    logger.info('quiet')
    logger.error('loud')
    assert.equal(lines.length, 1)
  })

  it('never writes a bearer token, JWT, URL password or a value under a secret-looking key', () => {
    const { logger, lines } = capture()
    logger.info(`refused Bearer ${JWT}`, {
      headers: { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' },
      state: { url: 'redis://default:s3cr3t-pw@redis.internal:6379/0' },
      nested: [{ password: 'hunter2' }, { parameters: ['4111-1111'] }, { note: `token=${JWT}` }],
    })
    const text = lines.join('')
    for (const secret of [JWT, 's3cr3t-pw', 'hunter2', '4111-1111']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`)
    assert.match(text, /"content-type":"application\/json"/)
    assert.match(text, /redis:\/\/\[redacted\]@redis\.internal:6379\/0/)
  })

  it('logs an error by class, code and cause chain; only our own errors keep their message', () => {
    const { logger, parsed } = capture()
    const driver = Object.assign(new Error('invalid input syntax for type integer: "SECRET-PARAM-42"'), { code: '22P02' })
    const system = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    logger.error('audit write failed', new UpstreamError('DB_ERROR', 'statement failed', { cause: driver }), { correlationId: 'c0ffee' })
    logger.error('disk', system)
    const [first, second] = parsed()
    assert.equal(first?.correlationId, 'c0ffee')
    assert.deepEqual(z.looseObject({ error: z.unknown() }).parse(first).error, {
      name: 'UpstreamError',
      code: 'DB_ERROR',
      message: 'statement failed',
      cause: { name: 'Error', stack: z.array(z.string()).parse(describeError(driver).stack) },
    })
    assert.ok(!JSON.stringify(first).includes('SECRET-PARAM-42'), 'a foreign message may quote a parameter: not logged')
    assert.deepEqual(z.looseObject({ error: z.looseObject({ name: z.string(), code: z.string() }) }).parse(second).error.code, 'ENOSPC')
    assert.deepEqual(describeError('a thrown string with a secret'), { thrown: 'string' })
  })
})

describe('scrubText', () => {
  it('masks tokens and URL credentials and leaves ordinary text alone', () => {
    assert.equal(scrubText(`Authorization: Bearer ${JWT}`), 'Authorization: Bearer [redacted]')
    assert.equal(scrubText(`token ${JWT} refused`), 'token [redacted-jwt] refused')
    assert.equal(scrubText('postgres://airlock:pw@db:5432/audit'), 'postgres://[redacted]@db:5432/audit')
    assert.equal(scrubText('policy reloaded from https://idp.example.com/.well-known/jwks.json'), 'policy reloaded from https://idp.example.com/.well-known/jwks.json')
  })
})
