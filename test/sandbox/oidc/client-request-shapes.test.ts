import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isMetadataDocumentUrl } from '../../../src/sandbox/oidc/client-metadata-document.js'
import { withDefaultResourceScope } from '../../../src/sandbox/oidc/default-resource-scope.js'

describe('isMetadataDocumentUrl', () => {
  const cases: readonly [string, boolean][] = [
    ['https://client.example/oauth/metadata.json', true],
    ['http://127.0.0.1:4000/client.json', true],
    ['http://localhost:4000/client.json', true],
    ['http://[::1]:4000/client.json', true],
    ['https://client.example/', false],
    ['https://client.example', false],
    ['http://client.example/client.json', false],
    ['http://10.0.0.1/client.json', false],
    ['https://user:pw@client.example/client.json', false],
    ['https://client.example/client.json#frag', false],
    ['https://client.example/client.json#', false],
    ['ftp://client.example/client.json', false],
    ['abc123', false],
  ]
  for (const [id, expected] of cases) {
    it(`${id}: ${expected ? 'a document URL' : 'not one'}`, () => assert.equal(isMetadataDocumentUrl(id), expected))
  }
})

describe('withDefaultResourceScope', () => {
  const scopes = ['mcp', 'orders.read'] as const
  const scopeOf = (path: string | undefined) => (path === undefined ? undefined : new URL(path, 'http://x').searchParams.get('scope'))
  it('adds the gateway scope to a request with none, or only OpenID scopes', () => {
    assert.equal(scopeOf(withDefaultResourceScope('/auth?client_id=a', scopes)), 'mcp')
    assert.equal(scopeOf(withDefaultResourceScope('/auth?client_id=a&scope=', scopes)), 'mcp')
    assert.equal(scopeOf(withDefaultResourceScope('/auth?client_id=a&scope=openid%20offline_access', scopes)), 'openid offline_access mcp')
  })
  it('leaves a request naming a gateway scope, and other paths, alone', () => {
    assert.equal(withDefaultResourceScope('/auth?scope=orders.read', scopes), undefined)
    assert.equal(withDefaultResourceScope('/auth?scope=openid%20mcp', scopes), undefined)
    assert.equal(withDefaultResourceScope('/token?client_id=a', scopes), undefined)
    assert.equal(withDefaultResourceScope('/interaction/abc', scopes), undefined)
  })
  it('keeps the other parameters as they were', () => {
    const rewritten = new URL(withDefaultResourceScope('/auth?client_id=a&state=s%20t&resource=http%3A%2F%2F127.0.0.1%2Fmcp', scopes) ?? '', 'http://x')
    assert.equal(rewritten.searchParams.get('state'), 's t')
    assert.equal(rewritten.searchParams.get('resource'), 'http://127.0.0.1/mcp')
    assert.equal(rewritten.searchParams.get('client_id'), 'a')
  })
})
