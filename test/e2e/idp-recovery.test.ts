import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway.js'
import { startTestIssuer, type TestIssuer } from '../support/test-issuer.js'
import { INITIALIZE, postMcp } from './support/raw-http.js'

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('no TCP port')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return address.port
}

/** Well-formed RS256 compact JWS whose signature is never checked: the keys to check it cannot be fetched. */
const PLACEHOLDER_TOKEN = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'k' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.AAAA`

describe('a gateway started while its identity provider is down (real process, IdP port closed)', () => {
  let dir: string
  let port: number
  let gateway: SpawnedGateway
  let issuer: TestIssuer | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-idp-'))
    port = await closedPort()
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, grants: [{ id: 'g', groups: ['dba'], tools: ['whoami'] }] }))
    gateway = await spawnGateway({
      dir,
      config: { issuer: `http://127.0.0.1:${port}`, listen: { host: '127.0.0.1', port: 0 }, policy: ['policy.json'], audit: { path: 'audit.jsonl', durability: 'write' }, shutdown: { drainSeconds: 0 } },
    })
  })

  after(async () => {
    gateway?.child.kill('SIGKILL')
    await issuer?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('advertises a Retry-After it honours, and verifies within Retry-After + 1 s of the IdP coming up', async (t) => {
    const advertised: number[] = []
    let token = PLACEHOLDER_TOKEN
    let upAt: number | undefined
    let lastRetryAfter = Number.NaN
    const startedAt = performance.now()
    for (;;) {
      const answer = await postMcp(gateway.url, INITIALIZE, { authorization: `Bearer ${token}` })
      if (answer.status === 200) break
      assert.equal(answer.status, 503, answer.text)
      assert.match(answer.text, /temporarily_unavailable/)
      lastRetryAfter = Number(answer.headers.get('retry-after'))
      assert.ok(Number.isInteger(lastRetryAfter) && lastRetryAfter >= 1, `Retry-After ${answer.headers.get('retry-after')}`)
      advertised.push(lastRetryAfter)
      assert.ok(performance.now() - startedAt < 60_000, `no recovery: Retry-After values ${advertised.join(', ')}`)
      // The client does what the 503 says; the IdP comes up while it waits, a few seconds in.
      const waitMs = lastRetryAfter * 1000
      if (upAt === undefined && performance.now() - startedAt > 2500) {
        const idp = await startTestIssuer({ port, audience: gateway.url })
        issuer = idp
        upAt = performance.now()
        token = await idp.mint({ groups: ['dba'] })
      }
      await sleep(waitMs)
    }
    assert.ok(upAt !== undefined, 'the first 200 came before the IdP was up')
    const recoveryMs = performance.now() - upAt
    t.diagnostic(`Retry-After values ${advertised.join(', ')}; first 200 ${Math.round(recoveryMs)} ms after the IdP came up`)
    assert.ok(recoveryMs <= (lastRetryAfter + 1) * 1000, `recovered ${Math.round(recoveryMs)} ms after the IdP came up; last Retry-After ${lastRetryAfter}`)
    assert.ok(Math.max(...advertised) <= 2, `Retry-After stays short while no key was ever fetched: ${advertised.join(', ')}`)
  })
})
