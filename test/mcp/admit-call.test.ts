import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Principal } from '../../src/auth/principal.js'
import { createManualClock, type ManualClock } from '../../src/clock.js'
import { StateError } from '../../src/errors.js'
import { createCallAdmission, signedInAt, type CallLimits } from '../../src/mcp/admit-call.js'
import { EVERYONE_GRANT } from '../../src/policy/everyone-grant.js'
import { createMemoryState, type GatewayState } from '../../src/state/gateway-state.js'
import { createRedisActivationStore } from '../../src/state/redis-activation-store.js'
import { createRedisConcurrencyLimiter } from '../../src/state/redis-concurrency-limiter.js'
import { createRedisRateLimiter } from '../../src/state/redis-rate-limiter.js'
import { policyOf } from '../policy/policy-fixture.js'
import { useTestRedis } from '../support/test-redis.js'

const T0 = Date.parse('2026-11-29T12:00:00Z')
const MAX_AGE = 86_400_000

const policy = policyOf({
  version: 1,
  grants: [
    { id: 'one-at-a-time', groups: ['ops'], tools: ['whoami'], ttl: '15m', limits: { concurrentCalls: 1, callsPerMinute: 2 } },
    { id: 'open', groups: ['ops'], tools: ['list_connections'], ttl: '15m' },
  ],
})
const limited = policy.grants[0] ?? assert.fail('grant')
const open = policy.grants[1] ?? assert.fail('grant')

function principal(subject: string, claims: Partial<Principal> = {}): Principal {
  return { issuer: 'https://idp.example.com', subject, groups: ['ops'], expiresAt: T0 / 1000 + 300, issuedAt: T0 / 1000, ...claims }
}

const { redis, redisPrefix } = useTestRedis()

type CallState = Pick<GatewayState, 'activations' | 'rates' | 'concurrency'>

const backends: Array<[string, (clock: ManualClock) => CallState]> = [
  ['memory', (clock) => createMemoryState(clock)],
  [
    'redis',
    (clock) => {
      const keyPrefix = redisPrefix()
      return {
        activations: createRedisActivationStore({ redis, keyPrefix }),
        rates: createRedisRateLimiter({ redis, keyPrefix }),
        concurrency: createRedisConcurrencyLimiter({ redis, keyPrefix, clock }),
      }
    },
  ],
]

function admitter(state: CallState, subjectLimits: CallLimits = {}) {
  return createCallAdmission({ state, subjectLimits, maxSignInAgeMs: MAX_AGE })
}

describe('the sign-in time a token carries', () => {
  it('is auth_time, else iat, never later than iat, in ms', () => {
    assert.equal(signedInAt(principal('a', { authTime: T0 / 1000 - 60 })), T0 - 60_000)
    assert.equal(signedInAt(principal('a')), T0)
    assert.equal(signedInAt(principal('a', { authTime: T0 / 1000 + 60 })), T0, 'an auth_time after iat is not believed')
    const { issuedAt: _dropped, ...noIat } = principal('a')
    assert.equal(signedInAt(noIat), undefined)
    assert.equal(signedInAt({ ...noIat, authTime: T0 / 1000 }), T0)
  })
})

for (const [name, make] of backends) {
  describe(`admitting a call (${name} state)`, () => {
    it('starts the period on the first call, continues it, and ends it after the ttl', async () => {
      const clock = createManualClock(T0)
      const admit = admitter(make(clock))
      const first = await admit(principal('alice'), open, T0)
      assert.ok(first.ok && first.started && !first.renewed, JSON.stringify(first))
      await first.release()
      const second = await admit(principal('alice'), open, T0 + 60_000)
      assert.ok(second.ok && !second.started && second.activation?.expiresAt === T0 + 15 * 60_000, JSON.stringify(second))
      const ended = await admit(principal('alice'), open, T0 + 15 * 60_000)
      assert.deepEqual(ended, { ok: false, code: 'GRANT_EXPIRED', reason: 'ACTIVATION_ENDED', message: 'Your access through grant "open" ended at 12:15 UTC (2026-11-29T12:15:00.000Z).' })
      const renewed = await admit(principal('alice', { authTime: T0 / 1000 + 16 * 60, issuedAt: T0 / 1000 + 16 * 60 }), open, T0 + 16 * 60_000)
      assert.ok(renewed.ok && renewed.started && renewed.renewed, JSON.stringify(renewed))
    })

    it('refuses a token without a sign-in time, or one signed in too long ago', async () => {
      const admit = admitter(make(createManualClock(T0)))
      const { issuedAt: _dropped, ...noIat } = principal('bob')
      assert.deepEqual(await admit(noIat, open, T0), { ok: false, code: 'SIGN_IN_REQUIRED', reason: 'SIGN_IN_MISSING', message: 'Grant "open": your token carries no sign-in time (auth_time or iat).' })
      const stale = await admit(principal('bob', { authTime: T0 / 1000 - 86_400 }), open, T0)
      assert.deepEqual(stale, { ok: false, code: 'SIGN_IN_REQUIRED', reason: 'SIGN_IN_TOO_OLD', message: 'Grant "open": your last sign-in is more than 24 h old.' })
    })

    it('keeps no access period under the built-in grant for everyone: no sign-in time needed, never ended, still limited', async () => {
      const clock = createManualClock(T0)
      const state = make(clock)
      const admit = createCallAdmission({ state, subjectLimits: { callsPerMinute: 1 }, maxSignInAgeMs: MAX_AGE })
      const { issuedAt: _dropped, ...noIat } = principal('mallory', { groups: [] })
      const first = await admit(noIat, EVERYONE_GRANT, T0)
      assert.deepEqual({ ...first, release: undefined }, { ok: true, activation: undefined, started: false, renewed: false, release: undefined })
      if (first.ok) await first.release()
      const later = await admit(noIat, EVERYONE_GRANT, T0 + 13 * 3600_000)
      assert.ok(later.ok && later.activation === undefined, JSON.stringify(later))
      await later.release()
      assert.equal(await state.activations.find([{ issuer: 'https://idp.example.com', subject: 'mallory', grantId: EVERYONE_GRANT.id }]).then((found) => found[0]), undefined, 'no period stored')
      const third = await admit(noIat, EVERYONE_GRANT, T0 + 13 * 3600_000 + 1)
      assert.deepEqual(third, { ok: false, code: 'RATE_LIMITED', reason: 'CALLS_PER_MINUTE', message: 'Retry after 60 s.' })
    })

    it('refuses over the grant’s limits before starting a period, and frees the place of a refused call', async () => {
      const clock = createManualClock(T0)
      const state = make(clock)
      const admit = admitter(state)
      const held = await admit(principal('carol'), limited, T0)
      assert.ok(held.ok, 'first call')
      const busy = await admit(principal('carol'), limited, T0)
      assert.deepEqual(busy, { ok: false, code: 'RATE_LIMITED', reason: 'CONCURRENT_CALLS', message: 'You have as many calls in flight as allowed; retry after 1 s.' })
      await held.release()
      const third = await admit(principal('carol'), limited, T0 + 1_000)
      assert.deepEqual(third, { ok: false, code: 'RATE_LIMITED', reason: 'CALLS_PER_MINUTE', message: 'Retry after 59 s.' })

      // A refused call starts nothing: dave is rate limited at his first call under the grant.
      const strict = admitter(state, { callsPerMinute: 1 })
      const dave = await strict(principal('dave'), open, T0)
      assert.ok(dave.ok, 'first call')
      await dave.release()
      assert.equal((await strict(principal('dave'), limited, T0)).ok, false, 'the subject-wide limit covers every grant')
      assert.deepEqual(await state.activations.find([{ issuer: 'https://idp.example.com', subject: 'dave', grantId: limited.id }]), [undefined])

      // A call refused for its period gives its place back.
      clock.set(T0 + 20 * 60_000)
      const late = await admit(principal('carol'), limited, T0 + 20 * 60_000)
      assert.equal(late.ok ? '' : late.code, 'GRANT_EXPIRED')
      const fresh = principal('carol', { authTime: T0 / 1000 + 19 * 60, issuedAt: T0 / 1000 + 19 * 60 })
      const back = await admit(fresh, limited, T0 + 20 * 60_000)
      assert.ok(back.ok && back.renewed, 'the place was released by the refused call')
      await back.release()
    })
  })
}

describe('admitting a call when the activation store fails', () => {
  it('rejects with the StateError and holds no place', async () => {
    const clock = createManualClock(T0)
    const memory = createMemoryState(clock)
    const failing: CallState = {
      ...memory,
      activations: {
        activate: async () => {
          throw new StateError('STATE_UNAVAILABLE', 'Redis script airlockActivate failed')
        },
        markRecorded: memory.activations.markRecorded,
        find: memory.activations.find,
      },
    }
    await assert.rejects(admitter(failing)(principal('erin'), limited, T0), StateError)
    const next = await admitter(memory)(principal('erin'), limited, T0 + 1)
    assert.ok(next.ok, 'the concurrency place taken before the failure was released')
  })
})
