import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data'
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm'
import { systemClock } from '../../../src/clock.js'
import { readBody, sendJson, startHttpServer, type StartedHttpServer } from '../../../src/sandbox/emulator-http.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { mapSigV4Failure } from '../../../src/sandbox/sigv4/sigv4-failure.js'
import { verifySigV4, type SigV4Result } from '../../../src/sandbox/sigv4/verify-sigv4.js'
import { createTeardown } from '../../support/teardown.js'

const store = createCredentialStore([
  { accessKeyId: 'AKIASDKSTATIC000001', secretAccessKey: 'sdk-secret', principalArn: 'arn:aws:iam::111122223333:user/sdk' },
  {
    accessKeyId: 'ASIASDKTEMP00000001',
    secretAccessKey: 'sdk-temp-secret',
    sessionToken: 'sdk/session+token==',
    principalArn: 'arn:aws:sts::111122223333:assumed-role/r/s',
  },
])

function isAwsError(err: unknown, name: string, status: number): boolean {
  assert.ok(err instanceof Error, 'err instanceof Error')
  assert.equal(err.name, name)
  assert.ok('$metadata' in err && typeof err.$metadata === 'object' && err.$metadata !== null, "'$metadata' in err && typeof err.$metadata === 'object' && err.$metadata !== null")
  assert.ok('httpStatusCode' in err.$metadata, "'httpStatusCode' in err.$metadata")
  assert.equal(err.$metadata.httpStatusCode, status)
  return true
}

describe('verifySigV4 against real SDK clients', () => {
  let server: StartedHttpServer
  const seen: SigV4Result[] = []
  const teardown = createTeardown()
  before(async () => {
    server = await startHttpServer(async (req, res) => {
      const body = await readBody(req)
      const isSsm = typeof req.headers['x-amz-target'] === 'string'
      const result = verifySigV4(
        { method: req.method ?? '', rawUrl: req.url ?? '', headers: req.headers, body },
        { store, service: isSsm ? 'ssm' : 'rds-data', clock: systemClock },
      )
      seen.push(result)
      if (!result.ok) {
        const mapped = isSsm ? mapSigV4Failure(result, 'awsJson') : result
        const type = isSsm ? { __type: mapped.code } : {}
        sendJson(res, mapped.status, { ...type, message: mapped.message }, { 'x-amzn-errortype': mapped.code })
        return
      }
      if (isSsm) sendJson(res, 200, { InstanceInformationList: [] }, {}, 'application/x-amz-json-1.1')
      else sendJson(res, 200, { numberOfRecordsUpdated: 0, records: [] })
    })
    teardown.add(() => server.close())
  })
  after(() => teardown.run())

  const rds = (accessKeyId: string, secretAccessKey: string, sessionToken?: string) =>
    new RDSDataClient({
      region: 'eu-central-1',
      endpoint: server.url,
      maxAttempts: 1,
      credentials: sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken },
    })
  const exec = new ExecuteStatementCommand({ resourceArn: 'arn:aws:rds:eu-central-1:111122223333:cluster:c', secretArn: 'arn:s', sql: "select 'a  b'" })

  it('accepts RDSDataClient requests with static and temporary credentials', async () => {
    const out = await rds('AKIASDKSTATIC000001', 'sdk-secret').send(exec)
    assert.equal(out.numberOfRecordsUpdated, 0)
    await rds('ASIASDKTEMP00000001', 'sdk-temp-secret', 'sdk/session+token==').send(exec)
    const last = seen.at(-1)
    assert.ok(last?.ok, 'last?.ok')
    if (last?.ok) assert.equal(last.region, 'eu-central-1')
  })

  it('refuses RDSDataClient requests with a wrong secret or unknown key, with the error type the SDK surfaces', async () => {
    await assert.rejects(rds('AKIASDKSTATIC000001', 'nope').send(exec), (err: unknown) => isAwsError(err, 'InvalidSignatureException', 403))
    await assert.rejects(rds('AKIAUNKNOWN00000001', 'x').send(exec), (err: unknown) => isAwsError(err, 'UnrecognizedClientException', 403))
  })

  it('accepts SSMClient (awsJson) requests and maps refusals to 400', async () => {
    const ssm = (secretAccessKey: string) =>
      new SSMClient({ region: 'us-east-2', endpoint: server.url, maxAttempts: 1, credentials: { accessKeyId: 'AKIASDKSTATIC000001', secretAccessKey } })
    const out = await ssm('sdk-secret').send(new DescribeInstanceInformationCommand({}))
    assert.deepEqual(out.InstanceInformationList, [])
    await assert.rejects(ssm('bad').send(new DescribeInstanceInformationCommand({})), (err: unknown) => isAwsError(err, 'InvalidSignatureException', 400))
  })
})
