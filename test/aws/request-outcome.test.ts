import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mayHaveActed, neverSent, unknownOutcome } from '../../src/aws/request-outcome.js'
import { UpstreamError } from '../../src/errors.js'

const nodeError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, $metadata: {} })
const answered = (name: string, status: number) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } })
const connectTimeout = Object.assign(new Error('@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 500 ms.'), { name: 'TimeoutError' })
const requestTimeout = Object.assign(new Error('@smithy/node-http-handler - [ERROR] a request has exceeded the configured 500 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' })

describe('whether a failed request may have reached AWS', () => {
  const cases: readonly [string, unknown, boolean][] = [
    // Provably not sent or refused: the action did not happen.
    ['connection refused', nodeError('ECONNREFUSED'), false],
    ['no DNS answer', nodeError('ENOTFOUND'), false],
    ['DNS temporarily failing', nodeError('EAI_AGAIN'), false],
    ['host unreachable', nodeError('EHOSTUNREACH'), false],
    ['connect timeout (socket never connected)', connectTimeout, false],
    ['no credentials (before signing)', Object.assign(new Error('none'), { name: 'CredentialsProviderError' }), false],
    ['gateway credentials failed while signing', new UpstreamError('AWS_CREDENTIALS', 'web identity token expired'), false],
    ['role session refused while signing', new UpstreamError('AWS_DENIED', 'STS refused AssumeRole'), false],
    ['throttled (400)', answered('ThrottlingException', 400), false],
    ['throttled (429)', answered('TooManyRequestsException', 429), false],
    ['denied (403)', answered('AccessDeniedException', 403), false],
    ['invalid instance (400)', answered('InvalidInstanceId', 400), false],
    // May have acted.
    ['connection reset', nodeError('ECONNRESET'), true],
    ['broken pipe', nodeError('EPIPE'), true],
    ['request timeout after sending', requestTimeout, true],
    ['internal error (500)', answered('InternalServerError', 500), true],
    ['bad gateway (502)', answered('Unknown', 502), true],
    ['aborted', Object.assign(new Error('aborted'), { name: 'AbortError' }), true],
    ['gave up at the deadline (sendBounded)', new UpstreamError('AWS_TIMEOUT', 'no answer'), true],
    ['cancelled by the caller mid-request (sendBounded)', new UpstreamError('CANCELLED', 'cancelled'), true],
    ['our own deadline', new UpstreamError('AWS_TIMEOUT', 'SendCommand: no answer within 500 ms'), true],
    ['the caller cancelled mid-call', new UpstreamError('CANCELLED', 'SendCommand: cancelled by the caller'), true],
    ['a refused-connection code with an HTTP answer is an answer', Object.assign(nodeError('ECONNREFUSED'), { $metadata: { httpStatusCode: 503 } }), true],
    ['not an error at all', 'weird', true],
  ]
  for (const [name, error, acted] of cases) {
    it(`${name}: ${acted ? 'may have acted' : 'did not act'}`, () => {
      assert.equal(mayHaveActed(error), acted)
      assert.equal(unknownOutcome(error, 'SendCommand')?.code, acted ? 'AWS_OUTCOME_UNKNOWN' : undefined)
    })
  }

  it('only connection failures count as never sent (a 4xx was sent, and refused)', () => {
    assert.equal(neverSent(nodeError('ECONNREFUSED')), true)
    assert.equal(neverSent(answered('ThrottlingException', 400)), false)
    assert.equal(neverSent(requestTimeout), false)
  })

  it('keeps the cause and says what failed, for the log', () => {
    const cause = nodeError('ECONNRESET')
    const error = unknownOutcome(cause, 'CommitTransaction')
    assert.equal(error?.cause, cause)
    assert.match(error?.message ?? '', /^CommitTransaction: failed after the request may have reached AWS; not retried \(Error: connect ECONNRESET/)
  })
})
