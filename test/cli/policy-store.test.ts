import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createPolicyStore, type PolicyStore, type PolicyStoreOptions } from '../../src/cli/policy-store.js'
import { createManualClock } from '../../src/clock.js'
import { ConfigError } from '../../src/errors.js'

type Event = { kind: 'reload'; grants: string[] } | { kind: 'error'; lines: readonly string[] }

/** Records store callbacks and lets a test wait for the next one (a missed change fails after 5 s, not forever). */
function recorder() {
  const events: Event[] = []
  const waiters: ((event: Event) => void)[] = []
  const push = (event: Event) => {
    const waiter = waiters.shift()
    if (waiter === undefined) events.push(event)
    else waiter(event)
  }
  return {
    onReload: (policy: { grants: readonly { id: string }[] }) => push({ kind: 'reload', grants: policy.grants.map((g) => g.id) }),
    onError: (lines: readonly string[]) => push({ kind: 'error', lines }),
    next: (): Promise<Event> => {
      const queued = events.shift()
      if (queued !== undefined) return Promise.resolve(queued)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no policy store event')), 5000)
        waiters.push((event) => {
          clearTimeout(timer)
          resolve(event)
        })
      })
    },
    pending: () => events.length,
  }
}

const grantFile = (...ids: string[]) =>
  JSON.stringify({ version: 1, grants: ids.map((id) => ({ id, groups: ['dba'], tools: ['whoami'] })) }, null, 2)

let root: string
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'airlock-policy-store-'))
})
after(async () => {
  await rm(root, { recursive: true, force: true })
})

async function setup(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name)
  await mkdir(dir)
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text)
  return dir
}

/** Replaces a file the way deployments should: write a sibling, then rename over it. */
async function replace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text)
  await rename(`${file}.tmp`, file)
}

async function open(options: PolicyStoreOptions): Promise<PolicyStore> {
  return createPolicyStore({ pollIntervalMs: 200, debounceMs: 50, ...options })
}

describe('createPolicyStore', () => {
  it('refuses an invalid initial policy with every issue line', async () => {
    const dir = await setup('initial', { 'a.json': grantFile('x'), 'b.json': '{"version": 1, "grants": [{"id": "x", "groups": ["g"], "tools": ["whoami"], "ttl": "1d"}]}' })
    await assert.rejects(open({ paths: [dir] }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, 'expected: error instanceof ConfigError')
      assert.equal(error.code, 'POLICY_INVALID')
      assert.ok(error.message.includes(`${join(dir, 'b.json')}: grants[0].ttl: expected a duration such as "15m", "90s" or "2h"`), error.message)
      return true
    })
  })

  it('swaps in a valid change, keeps the old policy on an invalid one, and applies a later fix', async () => {
    const dir = await setup('reload', { 'a.json': grantFile('one') })
    const events = recorder()
    const store = await open({ paths: ['reload/a.json'], cwd: root, onReload: events.onReload, onError: events.onError })
    try {
      assert.deepEqual(store.current().grants.map((g) => g.id), ['one'])

      await replace(join(dir, 'a.json'), grantFile('one', 'two'))
      assert.deepEqual(await events.next(), { kind: 'reload', grants: ['one', 'two'] })
      assert.deepEqual(store.current().grants.map((g) => g.id), ['one', 'two'])

      await replace(join(dir, 'a.json'), grantFile('one', 'two').replace('"tools"', '"tool"'))
      assert.deepEqual(await events.next(), {
        kind: 'error',
        lines: [
          'reload/a.json: grants[0].tools: required',
          'reload/a.json: grants[0]: unknown key "tool" (did you mean "tools"?)',
        ],
      })
      assert.deepEqual(store.current().grants.map((g) => g.id), ['one', 'two'])

      await replace(join(dir, 'a.json'), grantFile('three'))
      assert.deepEqual(await events.next(), { kind: 'reload', grants: ['three'] })
      assert.deepEqual(store.current().grants.map((g) => g.id), ['three'])
    } finally {
      store.close()
    }
  })

  it('picks up files replaced by rename and added to a watched directory', async () => {
    const dir = await setup('dir', { '10-base.json': grantFile('base') })
    const events = recorder()
    const store = await open({ paths: [dir], onReload: events.onReload, onError: events.onError })
    try {
      await writeFile(join(dir, '.20-extra.json.tmp'), grantFile('extra'))
      await rename(join(dir, '.20-extra.json.tmp'), join(dir, '20-extra.json'))
      assert.deepEqual(await events.next(), { kind: 'reload', grants: ['base', 'extra'] })
      await writeFile(join(dir, '.10-base.json.tmp'), grantFile('base2'))
      await rename(join(dir, '.10-base.json.tmp'), join(dir, '10-base.json'))
      assert.deepEqual(await events.next(), { kind: 'reload', grants: ['base2', 'extra'] })
    } finally {
      store.close()
    }
  })

  it('reloads by polling alone when file events are off', async () => {
    const dir = await setup('poll', { 'a.json': grantFile('one') })
    const events = recorder()
    const store = await open({ paths: [join(dir, 'a.json')], watch: false, onReload: events.onReload, onError: events.onError })
    try {
      await replace(join(dir, 'a.json'), '{"version": 1, "grants": [')
      const error = await events.next()
      assert.equal(error.kind, 'error')
      assert.match(error.kind === 'error' ? (error.lines[0] ?? '') : '', /a\.json:1:27: invalid JSON: unexpected end of file/)
      await replace(join(dir, 'a.json'), grantFile('two'))
      assert.deepEqual(await events.next(), { kind: 'reload', grants: ['two'] })
    } finally {
      store.close()
    }
  })

  it('reports a duplicate id added in a second file and keeps the policy', async () => {
    const dir = await setup('dupe', { 'a.json': grantFile('one') })
    const events = recorder()
    const store = await open({ paths: [dir], onReload: events.onReload, onError: events.onError })
    try {
      await replace(join(dir, 'b.json'), grantFile('one'))
      assert.deepEqual(await events.next(), {
        kind: 'error',
        lines: [`${join(dir, 'b.json')}: grants[0].id: grant id "one" is already used by a grant in ${join(dir, 'a.json')} (grants[0].id)`],
      })
      assert.deepEqual(store.current().grants.map((g) => g.id), ['one'])
    } finally {
      store.close()
    }
  })

  it('keeps the last good policy when a file disappears, and takes it back when it returns', async () => {
    const dir = await setup('gone', { 'a.json': grantFile('one') })
    const events = recorder()
    const store = await open({ paths: [join(dir, 'a.json')], onReload: events.onReload, onError: events.onError })
    try {
      await rm(join(dir, 'a.json'))
      assert.deepEqual(await events.next(), { kind: 'error', lines: [`${join(dir, 'a.json')}: no such file or directory`] })
      assert.deepEqual(store.current().grants.map((g) => g.id), ['one'])
      await replace(join(dir, 'a.json'), grantFile('two'))
      assert.deepEqual(await events.next(), { kind: 'reload', grants: ['two'] })
    } finally {
      store.close()
    }
  })

  it('reload() applies a change at once, and close() stops watching', async () => {
    const dir = await setup('manual', { 'a.json': grantFile('one') })
    const events = recorder()
    const store = await open({ paths: [dir], pollIntervalMs: 60_000, watch: false, onReload: events.onReload, onError: events.onError })
    await writeFile(join(dir, 'a.json'), grantFile('two'))
    assert.equal(await store.reload(), true)
    assert.equal(await store.reload(), false, 'unchanged files do not reload again')
    assert.deepEqual(store.current().grants.map((g) => g.id), ['two'])
    assert.deepEqual(await events.next(), { kind: 'reload', grants: ['two'] })
    store.close()
    await writeFile(join(dir, 'a.json'), grantFile('three'))
    assert.equal(await store.reload(), false)
    assert.deepEqual(store.current().grants.map((g) => g.id), ['two'])
    assert.equal(events.pending(), 0)
  })

  it('reports warnings such as an expired grant on load', async () => {
    const dir = await setup('warn', { 'a.json': JSON.stringify({ version: 1, grants: [{ id: 'old', groups: ['g'], tools: ['whoami'], notAfter: '2026-01-01T00:00:00Z' }] }) })
    const warnings: string[] = []
    const store = await open({ paths: [dir], watch: false, clock: createManualClock(Date.parse('2026-06-01T00:00:00Z')), onWarning: (lines) => warnings.push(...lines) })
    store.close()
    assert.deepEqual(warnings, [`${join(dir, 'a.json')}: grants[0].notAfter: grant expired at 2026-01-01T00:00:00Z; it allows nothing`])
  })

  it('can refuse grants naming tools the gateway does not have', async () => {
    const dir = await setup('tools', { 'a.json': grantFile('one').replace('whoami', 'whoamii') })
    await assert.rejects(open({ paths: [dir], tools: [{ name: 'whoami', connectionKinds: [] }] }), /grants\[0\]\.tools\[0\]: unknown tool "whoamii"; known tools: whoami/)
  })
})
