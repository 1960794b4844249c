import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UpstreamError } from '../../../src/errors.js'
import { mapSsmError } from '../../../tools/ssm-run/map-ssm-error.js'

function awsError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  const error = new Error(`secret-looking AWS body for ${name}`)
  error.name = name
  return Object.assign(error, { $metadata: status === undefined ? {} : { httpStatusCode: status } }, extra)
}

describe('mapSsmError', () => {
  const cases: [string, Error, string][] = [
    ['InvalidInstanceId', awsError('InvalidInstanceId', 400), 'INSTANCE_UNAVAILABLE'],
    ['ThrottlingException', awsError('ThrottlingException', 400), 'AWS_THROTTLED'],
    ['TooManyUpdates', awsError('TooManyUpdates', 400), 'AWS_THROTTLED'],
    ['HTTP 429', awsError('Whatever', 429), 'AWS_THROTTLED'],
    ['AccessDeniedException', awsError('AccessDeniedException', 400), 'AWS_DENIED'],
    ['HTTP 403', awsError('Whatever', 403), 'AWS_DENIED'],
    ['UnrecognizedClientException', awsError('UnrecognizedClientException', 400), 'AWS_CREDENTIALS'],
    ['InvalidSignatureException', awsError('InvalidSignatureException', 400), 'AWS_CREDENTIALS'],
    ['ExpiredTokenException', awsError('ExpiredTokenException', 400), 'AWS_CREDENTIALS'],
    ['CredentialsProviderError', awsError('CredentialsProviderError'), 'AWS_CREDENTIALS'],
    ['HTTP 401', awsError('Whatever', 401), 'AWS_CREDENTIALS'],
    ['InvocationDoesNotExist', awsError('InvocationDoesNotExist', 400), 'AWS_NOT_FOUND'],
    ['InternalServerError', awsError('InternalServerError', 500), 'AWS_UNAVAILABLE'],
    ['HTTP 503', awsError('Whatever', 503), 'AWS_UNAVAILABLE'],
    ['connection refused', awsError('Error', undefined, { code: 'ECONNREFUSED' }), 'AWS_UNAVAILABLE'],
    ['InvalidDocument', awsError('InvalidDocument', 400), 'AWS_ERROR'],
    ['InvalidParameters', awsError('InvalidParameters', 400), 'AWS_ERROR'],
    ['not an error object', Object.assign(new Error('x'), { name: '' }), 'AWS_ERROR'],
  ]
  for (const [name, error, code] of cases) {
    it(`${name} → ${code}`, () => {
      const mapped = mapSsmError(error, 'SendCommand')
      assert.equal(mapped.code, code)
      assert.equal(mapped.publicDetail, undefined)
      assert.equal(mapped.cause, error)
    })
  }
  it('passes UpstreamErrors through', () => {
    const original = new UpstreamError('CANCELLED', 'x')
    assert.equal(mapSsmError(original, 'x'), original)
  })
})
