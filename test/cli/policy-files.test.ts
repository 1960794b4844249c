import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readPolicyFiles } from '../../src/cli/policy-files.js'
import { formatPolicyIssue } from '../../src/policy/policy-issue.js'

let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-policy-files-'))
  await mkdir(join(dir, 'policies'))
  await writeFile(join(dir, 'policies', 'b.json'), '{"version": 1}')
  await writeFile(join(dir, 'policies', 'a.json'), '\uFEFF{"version": 1, "grants": []}')
  await writeFile(join(dir, 'policies', 'policy.schema.json'), '{"not": "a policy"}')
  await writeFile(join(dir, 'policies', '.a.json.swp'), 'garbage')
  await writeFile(join(dir, 'policies', '.hidden.json'), 'garbage')
  await writeFile(join(dir, 'policies', 'notes.txt'), 'garbage')
  await mkdir(join(dir, 'empty'))
  await writeFile(join(dir, 'broken.json'), '{\n  "version": 1,\n  "grants": [\n    {"id": "x",}\n  ]\n}\n')
  await writeFile(join(dir, 'dupes.json'), '{\n  "version": 1,\n  "grants": [{"id": "x", "groups": ["a"], "groups": ["b"], "tools": ["whoami"]}]\n}')
  await writeFile(join(dir, 'truncated.json'), '{"version": 1, "grants": [')
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('readPolicyFiles', () => {
  it('reads every *.json of a directory in name order, skipping the schema and hidden files', async () => {
    const read = await readPolicyFiles(['policies'], { cwd: dir })
    assert.deepEqual(read.issues, [])
    assert.deepEqual(read.documents, [
      { source: join('policies', 'a.json'), data: { version: 1, grants: [] } },
      { source: join('policies', 'b.json'), data: { version: 1 } },
    ])
    assert.deepEqual(read.files, [join(dir, 'policies', 'a.json'), join(dir, 'policies', 'b.json')])
  })

  it('reads a file named directly, once even when also reached through its directory', async () => {
    const read = await readPolicyFiles(['policies/b.json', 'policies'], { cwd: dir })
    assert.deepEqual(read.documents.map((d) => d.source), ['policies/b.json', join('policies', 'a.json')])
  })

  it('reports JSON syntax errors with line and column', async () => {
    const read = await readPolicyFiles(['broken.json', 'truncated.json'], { cwd: dir })
    assert.deepEqual(read.documents, [])
    assert.deepEqual(read.issues.map(formatPolicyIssue), [
      'broken.json:4:16: invalid JSON: unexpected "}"; expected a property name in double quotes',
      'truncated.json:1:27: invalid JSON: unexpected end of file; expected a value',
    ])
  })

  it('refuses duplicate keys, which JSON.parse would silently collapse', async () => {
    const read = await readPolicyFiles(['dupes.json'], { cwd: dir })
    assert.deepEqual(read.documents, [])
    assert.deepEqual(read.issues.map(formatPolicyIssue), [
      'dupes.json:3:43: grants[0].groups: duplicate key "groups"; JSON would keep only the last one',
    ])
  })

  it('reports missing paths and empty directories', async () => {
    const read = await readPolicyFiles(['nope.json', 'empty'], { cwd: dir })
    assert.deepEqual(read.issues.map(formatPolicyIssue), ['nope.json: no such file or directory', 'empty: no policy files (*.json) in this directory'])
  })

  it('changes its fingerprint with content, and only then', async () => {
    const one = await readPolicyFiles(['policies'], { cwd: dir })
    const two = await readPolicyFiles(['policies'], { cwd: dir })
    assert.equal(one.fingerprint, two.fingerprint)
    await writeFile(join(dir, 'policies', 'b.json'), '{"version": 1, "grants": []}')
    const three = await readPolicyFiles(['policies'], { cwd: dir })
    assert.notEqual(three.fingerprint, one.fingerprint)
  })
})
