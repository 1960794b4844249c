import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AccessDeniedException,
  BadRequestException,
  DatabaseErrorException,
  DatabaseNotFoundException,
  DatabaseUnavailableException,
  ForbiddenException,
  InternalServerErrorException,
  SecretsErrorException,
  StatementTimeoutException,
  TransactionNotFoundException,
} from '@aws-sdk/client-rds-data'
import { UpstreamError } from '../../../src/errors.js'
import type { UpstreamErrorCode } from '../../../src/errors.js'
import { mapRdsDataError } from '../../../tools/sql-query/map-rds-data-error.js'

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } })

function named(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra })
}

describe('mapRdsDataError', () => {
  const cases: [string, unknown, UpstreamErrorCode, string | undefined][] = [
    ['DatabaseErrorException', new DatabaseErrorException({ message: 'ERROR: relation "nope" does not exist; SQLState: 42P01', ...meta(400) }), 'DB_ERROR', 'ERROR: relation "nope" does not exist; SQLState: 42P01'],
    ['PostgreSQL statement timeout', new DatabaseErrorException({ message: 'ERROR: canceling statement due to statement timeout; SQLState: 57014', ...meta(400) }), 'DB_TIMEOUT', 'ERROR: canceling statement due to statement timeout; SQLState: 57014'],
    ['MySQL error as BadRequest', new BadRequestException({ message: "Database error code: 1146. Message: Table 'test.nope' doesn't exist", ...meta(400) }), 'DB_ERROR', "Database error code: 1146. Message: Table 'test.nope' doesn't exist"],
    ['StatementTimeoutException', new StatementTimeoutException({ message: 'Request timed out', ...meta(400) }), 'DB_TIMEOUT', undefined],
    ['response too large', new BadRequestException({ message: 'Database returned more than the allowed response size limit', ...meta(400) }), 'RESULT_TOO_LARGE', undefined],
    ['other BadRequest', new BadRequestException({ message: 'Invalid resourceArn <body>', ...meta(400) }), 'AWS_ERROR', undefined],
    ['ThrottlingException', named('ThrottlingException', 'Rate exceeded', meta(400)), 'AWS_THROTTLED', undefined],
    ['HTTP 429', named('SomethingElse', 'slow down', meta(429)), 'AWS_THROTTLED', undefined],
    ['AccessDeniedException', new AccessDeniedException({ message: 'User: arn:aws:sts::1:assumed-role/x is not authorized', ...meta(403) }), 'AWS_DENIED', undefined],
    ['ForbiddenException', new ForbiddenException({ message: 'forbidden', ...meta(403) }), 'AWS_DENIED', undefined],
    ['UnrecognizedClientException', named('UnrecognizedClientException', 'The security token included in the request is invalid.', meta(403)), 'AWS_CREDENTIALS', undefined],
    ['InvalidSignatureException', named('InvalidSignatureException', 'Signature expired', meta(403)), 'AWS_CREDENTIALS', undefined],
    ['CredentialsProviderError', named('CredentialsProviderError', 'Could not load credentials from any providers'), 'AWS_CREDENTIALS', undefined],
    ['SecretsErrorException', new SecretsErrorException({ message: 'secret', ...meta(400) }), 'AWS_CREDENTIALS', undefined],
    ['DatabaseNotFoundException', new DatabaseNotFoundException({ message: 'no db', ...meta(404) }), 'AWS_NOT_FOUND', undefined],
    ['TransactionNotFoundException', new TransactionNotFoundException({ message: 'no tx', ...meta(404) }), 'AWS_NOT_FOUND', undefined],
    ['HTTP 404', named('Weird', 'gone', meta(404)), 'AWS_NOT_FOUND', undefined],
    ['DatabaseUnavailableException', new DatabaseUnavailableException({ message: 'down', ...meta(504) }), 'AWS_UNAVAILABLE', undefined],
    ['InternalServerErrorException', new InternalServerErrorException({ message: 'oops', ...meta(500) }), 'AWS_UNAVAILABLE', undefined],
    ['connection refused', named('Error', 'connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }), 'AWS_UNAVAILABLE', undefined],
    ['anything else', named('MysteryException', '<html>body</html>', meta(418)), 'AWS_ERROR', undefined],
    ['not even an Error', 'a string', 'AWS_ERROR', undefined],
  ]
  for (const [label, error, code, publicDetail] of cases) {
    it(`${label} → ${code}`, () => {
      const mapped = mapRdsDataError(error, 'ExecuteStatement')
      assert.ok(mapped instanceof UpstreamError, 'expected: mapped instanceof UpstreamError')
      assert.equal(mapped.code, code)
      assert.equal(mapped.publicDetail, publicDetail)
      assert.match(mapped.message, /^ExecuteStatement: /)
    })
  }
  it('passes an UpstreamError through unchanged', () => {
    const original = new UpstreamError('CANCELLED', 'x')
    assert.equal(mapRdsDataError(original, 'y'), original)
  })
})
