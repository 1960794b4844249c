import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose'
import { createManualClock } from '../../../src/clock.js'
import { startServiceAccountIssuer, type ServiceAccountIssuer } from '../../../src/sandbox/service-account-issuer.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { startStsEmulator } from '../../../src/sandbox/sts/start-sts-emulator.js'
import { createTrail } from '../../../src/sandbox/trail.js'
import { createTeardown } from '../../support/teardown.js'

describe('service-account token issuer', () => {
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  let dir: string
  let issuer: ServiceAccountIssuer
  const teardown = createTeardown()
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-sa-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    issuer = await startServiceAccountIssuer({ clock, tokenFile: join(dir, 'eks.amazonaws.com', 'token'), namespace: 'airlock', serviceAccount: 'airlock-gateway' })
    teardown.add(() => issuer.close())
  })
  after(() => teardown.run())

  it('serves discovery and JWKS, and writes a projected token with the IRSA claims', async () => {
    const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string }
    assert.equal(discovery.issuer, issuer.issuer)
    assert.equal(discovery.jwks_uri, issuer.jwksUri)
    const token = await readFile(issuer.tokenFile, 'utf8')
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: issuer.issuer,
      audience: 'sts.amazonaws.com',
      currentDate: new Date(clock.now()),
    })
    assert.equal(payload.sub, 'system:serviceaccount:airlock:airlock-gateway')
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600)
    assert.equal((await fetch(`${issuer.issuer}/other`)).status, 404)
  })

  it('rotates the token file with a fresh expiry', async () => {
    const before = decodeJwt(await readFile(issuer.tokenFile, 'utf8'))
    clock.advance(600_000)
    const rotated = await issuer.rotate()
    assert.equal(await readFile(issuer.tokenFile, 'utf8'), rotated)
    assert.equal(decodeJwt(rotated).exp, (before.exp ?? 0) + 600)
  })
})

describe('startStsEmulator configuration', () => {
  it('refuses a misconfigured role as programmer misuse', async () => {
    const clock = createManualClock(0)
    await assert.rejects(
      startStsEmulator({
        store: createCredentialStore(),
        trail: createTrail(clock),
        clock,
        accountId: '111122223333',
        oidcProviders: [],
        roles: [{ roleArn: 'arn:aws:iam::1:role/x', trust: { principals: [] } }],
      }),
      (e: unknown) => e instanceof TypeError && /roleArn/.test(e.message) && /principals/.test(e.message),
    )
  })
})
