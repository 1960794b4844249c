import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { policyJsonSchema, POLICY_SCHEMA_ID } from '../../src/policy/policy-json-schema.js'

const committedUrl = new URL('../../policies/policy.schema.json', import.meta.url)

describe('policyJsonSchema', () => {
  it('matches the committed policies/policy.schema.json', async () => {
    const committed = await readFile(committedUrl, 'utf8')
    assert.equal(
      committed,
      `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
      'policies/policy.schema.json is stale; regenerate it with: npx --no-install airlock policy schema > policies/policy.schema.json',
    )
  })

  it('describes the input form: durations as strings, strict objects, an id and title', () => {
    const schema = policyJsonSchema()
    assert.equal(schema.$id, POLICY_SCHEMA_ID)
    assert.equal(schema.title, 'Airlock policy file')
    assert.equal(schema.additionalProperties, false)
    const text = JSON.stringify(schema)
    assert.ok(text.includes('"ttl":{"type":"string","pattern":"^[1-9]\\\\d{0,5}(s|m|h)$"'), 'ttl is described as a duration string')
    assert.ok(text.includes('"default":"15m"'), 'expected: text.includes(\'\"default\":\"15m\"\')')
    assert.ok(!text.includes('"default":900'), 'expected: !text.includes(\'\"default\":900\')')
  })
})
