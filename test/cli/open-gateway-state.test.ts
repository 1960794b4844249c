import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { silentLogger, type Logger } from '../../src/cli/logger.js'
import { openGatewayState, type OpenedState } from '../../src/cli/open-gateway-state.js'
import { systemClock } from '../../src/clock.js'
import { stateConfigSchema } from '../../src/config.js'
import { StateError } from '../../src/errors.js'
import type { ActivationRequest } from '../../src/state/activation-store.js'
import { createTeardown } from '../support/teardown.js'
import { startTcpProxy } from '../support/tcp-proxy.js'

const SESSIONS = { idleTimeoutSeconds: 600, maxPerSubject: 16, maxTotal: 50_000, maxLifetimeSeconds: 43_200 }

const teardown = createTeardown()
after(() => teardown.run())

function activation(): ActivationRequest {
  const now = systemClock.now()
  return { key: { issuer: 'https://idp.example.com', subject: `s-${randomBytes(4).toString('hex')}`, grantId: 'g' }, now, ttlMs: 60_000, notAfterMs: undefined, signedInAt: now, maxSignInAgeMs: 3_600_000 }
}

/** A logger that keeps the lines it was given. */
function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = []
  return { lines, info: (m) => void lines.push(`info ${m}`), warn: (m) => void lines.push(`warn ${m}`), error: (m) => void lines.push(`error ${m}`) }
}

async function open(port: number, logger: Logger = silentLogger, commandTimeoutMs = 200): Promise<OpenedState> {
  const keyPrefix = `airlock-test:${randomBytes(6).toString('hex')}:`
  const opened = await openGatewayState({ config: stateConfigSchema.parse({ kind: 'redis', url: `redis://127.0.0.1:${port}`, keyPrefix, commandTimeoutMs }), sessions: SESSIONS, clock: systemClock, logger })
  teardown.add(async () => {
    const cleaner = new Redis({ host: '127.0.0.1', port: 6379 })
    const keys = await cleaner.keys(`${keyPrefix}*`)
    if (keys.length > 0) await cleaner.del(...keys)
    cleaner.disconnect()
  })
  teardown.add(() => opened.close())
  return opened
}

/** Polls until the health check says ok, or fails after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = systemClock.now()
  while (systemClock.now() - start < ms) {
    if (await check()) return systemClock.now() - start
    await sleep(50)
  }
  assert.fail(`${what} within ${ms} ms`)
}

describe('the Redis state store when Redis is down, slow or back', () => {
  it('uses the real Redis when it is there (memory needs nothing)', async () => {
    const { state } = await open(6379)
    // On a loaded machine the first ping may miss the short command timeout: healthy soon is what counts.
    await until(async () => (await state.health.check()).ok, 5_000, 'healthy')
    assert.equal((await state.activations.activate(activation())).outcome, 'started')
    const memory = await openGatewayState({ config: stateConfigSchema.parse(undefined), sessions: SESSIONS, clock: systemClock, logger: silentLogger })
    assert.deepEqual(await memory.state.health.check(), { ok: true })
    await memory.close()
  })

  it('fails fast and closed on a closed port, and says so in health', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const address = probe.address()
    assert.ok(address !== null && typeof address !== 'string', 'bound')
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const { state } = await open(address.port)
    const started = systemClock.now()
    await assert.rejects(state.activations.activate(activation()), (error: unknown) => error instanceof StateError && error.code === 'STATE_UNAVAILABLE')
    await assert.rejects(state.rates.take([{ key: 'k', limit: 1 }], systemClock.now()), StateError)
    await assert.rejects(state.concurrency.acquire([{ key: 'k', limit: 1 }], systemClock.now()), StateError)
    assert.ok(systemClock.now() - started < 500, 'no command waits for a connection')
    assert.deepEqual(await state.health.check(), { ok: false, retryAfterSeconds: 2 })
  })

  it('fails within the command timeout when a server accepts and never answers', async () => {
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => {
      sockets.add(socket)
      socket.resume()
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    teardown.add(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      silent.close(() => resolve())
    }))
    const address = silent.address()
    assert.ok(address !== null && typeof address !== 'string', 'bound')
    const { state } = await open(address.port)
    const started = systemClock.now()
    await assert.rejects(state.activations.activate(activation()), StateError)
    assert.ok(systemClock.now() - started < 1_000, `refused in ${systemClock.now() - started} ms`)
    assert.equal((await state.health.check()).ok, false)
  })

  it('goes down when Redis is slow and comes back by itself, logging each change once', async () => {
    const proxy = await startTcpProxy({ port: 6379 })
    teardown.add(() => proxy.close())
    const logger = recordingLogger()
    const { state } = await open(proxy.port, logger)
    assert.equal((await state.activations.activate(activation())).outcome, 'started')
    proxy.setMode('slow', 600)
    const started = systemClock.now()
    await assert.rejects(state.activations.activate(activation()), StateError)
    assert.ok(systemClock.now() - started < 500, 'the command timeout (200 ms) bounds a slow answer')
    assert.equal((await state.health.check()).ok, false)
    await assert.rejects(state.rates.take([{ key: 'k', limit: 1 }], systemClock.now()), StateError)
    proxy.setMode('forward')
    await until(async () => (await state.health.check()).ok, 5_000, 'health recovers')
    assert.equal((await state.activations.activate(activation())).outcome, 'started')
    assert.deepEqual(
      logger.lines.filter((l) => l.includes('state store')),
      ['error state store (Redis) unavailable: tool calls are refused with 503 and Retry-After until it answers', 'info state store (Redis) answers again; calls are served'],
    )
  })

  it('recovers when Redis comes back after the connection was cut', async () => {
    const proxy = await startTcpProxy({ port: 6379 })
    teardown.add(() => proxy.close())
    const { state } = await open(proxy.port)
    assert.equal((await state.activations.activate(activation())).outcome, 'started')
    await proxy.stop()
    await assert.rejects(state.activations.activate(activation()), StateError)
    assert.equal((await state.health.check()).ok, false)
    await proxy.start()
    const took = await until(async () => (await state.health.check()).ok, 5_000, 'health recovers after reconnecting')
    assert.ok(took < 3_000, `recovered in ${took} ms (reconnect back-off is capped at 2 s)`)
    assert.equal((await state.activations.activate(activation())).outcome, 'started')
  })
})
