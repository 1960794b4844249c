import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createManualClock, type ManualClock } from '../../../src/clock.js'
import { startServiceAccountIssuer, type ServiceAccountIssuer } from '../../../src/sandbox/service-account-issuer.js'
import { createCredentialStore, type CredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { startStsEmulator, type StsEmulator } from '../../../src/sandbox/sts/start-sts-emulator.js'
import { createTrail, type Trail } from '../../../src/sandbox/trail.js'

export const ACCOUNT = '111122223333'
export const GATEWAY_ROLE = `arn:aws:iam::${ACCOUNT}:role/airlock-gateway`
export const CONNECTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/airlock-orders-db`
export const NO_SOURCE_ROLE = `arn:aws:iam::${ACCOUNT}:role/no-source-identity`
export const SHORT_ROLE = `arn:aws:iam::${ACCOUNT}:role/long-sessions`

export interface StsFixture {
  readonly clock: ManualClock
  readonly store: CredentialStore
  readonly trail: Trail
  readonly issuer: ServiceAccountIssuer
  readonly sts: StsEmulator
  readonly dir: string
  close(): Promise<void>
}

/** An SA token issuer plus the STS emulator trusting it, with a gateway role and two connection roles. */
export async function startStsFixture(): Promise<StsFixture> {
  // Real wall-clock time: the SDK signs with its own clock, and the emulator checks skew.
  const clock = createManualClock(Date.now())
  const store = createCredentialStore()
  const trail = createTrail(clock)
  const dir = await mkdtemp(join(tmpdir(), 'airlock-sts-'))
  const issuer = await startServiceAccountIssuer({ clock, tokenFile: join(dir, 'token') })
  const sts = await startStsEmulator({
    store,
    trail,
    clock,
    accountId: ACCOUNT,
    oidcProviders: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri }],
    roles: [
      {
        roleArn: GATEWAY_ROLE,
        trust: { issuer: issuer.issuer, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:airlock:airlock-gateway'] },
        maxSessionSeconds: 3600,
      },
      { roleArn: CONNECTION_ROLE, trust: { principals: [GATEWAY_ROLE], allowSourceIdentity: true }, maxSessionSeconds: 3600 },
      { roleArn: NO_SOURCE_ROLE, trust: { principals: [GATEWAY_ROLE] } },
      { roleArn: SHORT_ROLE, trust: { principals: [GATEWAY_ROLE, CONNECTION_ROLE], allowSourceIdentity: true }, maxSessionSeconds: 7200 },
    ],
  })
  return {
    clock,
    store,
    trail,
    issuer,
    sts,
    dir,
    async close() {
      await sts.close()
      await issuer.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
