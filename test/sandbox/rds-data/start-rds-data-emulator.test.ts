import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data'
import { PGlite } from '@electric-sql/pglite'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { createPgliteBackend } from '../../../src/sandbox/rds-data/pglite-backend.js'
import { NodeSha256 } from '../../../src/aws/node-sha256.js'
import { CLUSTER_ARN, CREDENTIAL, SECRET_ARN, awsError, startHarness, type Harness } from './rds-data-harness.js'
import { createTeardown } from '../../support/teardown.js'

describe('RDS Data API emulator: HTTP edges', () => {
  const db = new PGlite()
  let h: Harness
  const teardown = createTeardown()
  before(async () => {
    teardown.add(() => db.close())
    h = await startHarness(createPgliteBackend({ db }))
    teardown.add(() => h.close())
  })
  after(() => teardown.run())

  async function signedFetch(path: string, body: string): Promise<Response> {
    const url = new URL(path, h.emulator.endpoint)
    const signer = new SignatureV4({ credentials: CREDENTIAL, region: 'us-east-1', service: 'rds-data', sha256: NodeSha256 })
    const signed = await signer.sign(
      new HttpRequest({ method: 'POST', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, 'content-type': 'application/json' }, body }),
    )
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = v
    return fetch(url, { method: 'POST', headers, body })
  }

  it('refuses an unsigned request with MissingAuthenticationTokenException and records it', async () => {
    const res = await fetch(new URL('/Execute', h.emulator.endpoint), { method: 'POST', body: '{}' })
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException')
    const entry = h.trail.entries().at(-1)
    assert.equal(entry?.outcome, 'MissingAuthenticationTokenException')
    assert.equal(entry?.action, 'ExecuteStatement')
  })

  it('answers a signed call to an unknown path with 404', async () => {
    const res = await signedFetch('/ExecuteSql', '{}')
    assert.equal(res.status, 404)
    assert.equal(res.headers.get('x-amzn-errortype'), 'UnknownOperationException')
  })

  it('answers a signed body that is not JSON with SerializationException', async () => {
    const res = await signedFetch('/Execute', '{not json')
    assert.equal(res.status, 400)
    assert.equal(res.headers.get('x-amzn-errortype'), 'SerializationException')
  })

  it('accepts a request signed outside the SDK', async () => {
    const res = await signedFetch('/Execute', JSON.stringify({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, sql: 'select 41 + 1' }))
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { numberOfRecordsUpdated: 0, records: [[{ longValue: 42 }]] })
  })

  it('refuses invalid input with BadRequestException naming the field, not its value', async () => {
    await assert.rejects(
      h.client().send(new ExecuteStatementCommand({ resourceArn: 'short', secretArn: SECRET_ARN, sql: 'select 1' })),
      awsError('BadRequestException', 400, /'resourceArn'/),
    )
    await assert.rejects(
      h.client().send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, sql: '   ' })),
      awsError('BadRequestException', 400),
    )
  })
})
