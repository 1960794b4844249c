import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { protectedResourceMetadata, protectedResourceMetadataLocation } from '../../src/auth/protected-resource-metadata.js'

describe('protectedResourceMetadata (RFC 9728 §2)', () => {
  it('builds the document with header-only bearer tokens', () => {
    assert.deepEqual(
      protectedResourceMetadata({
        resource: 'https://airlock.example/mcp',
        authorizationServers: ['https://idp.example/realms/corp'],
        scopesSupported: ['openid', 'airlock'],
        resourceName: 'Airlock',
      }),
      {
        resource: 'https://airlock.example/mcp',
        authorization_servers: ['https://idp.example/realms/corp'],
        bearer_methods_supported: ['header'],
        scopes_supported: ['openid', 'airlock'],
        resource_name: 'Airlock',
      },
    )
    const plain = protectedResourceMetadata({ resource: 'http://127.0.0.1:8080/mcp', authorizationServers: ['x'], scopesSupported: [] })
    assert.equal(Object.hasOwn(plain, 'resource_name'), false)
  })

  it('never advertises offline_access, even when configured', () => {
    const doc = protectedResourceMetadata({ resource: 'https://airlock.example/mcp', authorizationServers: ['https://idp.example'], scopesSupported: ['openid', 'offline_access', 'airlock'] })
    assert.deepEqual(doc.scopes_supported, ['openid', 'airlock'])
  })

  it('throws TypeError for an insecure or fragment resource or no authorization server', () => {
    const ok = { authorizationServers: ['https://idp.example'], scopesSupported: [] }
    assert.throws(() => protectedResourceMetadata({ ...ok, resource: 'http://airlock.example/mcp' }), TypeError)
    assert.throws(() => protectedResourceMetadata({ ...ok, resource: 'https://airlock.example/mcp#x' }), TypeError)
    assert.throws(() => protectedResourceMetadata({ ...ok, resource: '/mcp' }), TypeError)
    assert.throws(() => protectedResourceMetadata({ ...ok, resource: 'https://airlock.example/mcp', authorizationServers: [] }), TypeError)
  })
})

describe('protectedResourceMetadataLocation (RFC 9728 §3.1)', () => {
  it('inserts the well-known path between host and path', () => {
    assert.deepEqual(protectedResourceMetadataLocation('https://airlock.example/mcp'), {
      url: 'https://airlock.example/.well-known/oauth-protected-resource/mcp',
      paths: ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'],
    })
    assert.deepEqual(protectedResourceMetadataLocation('https://airlock.example/a/mcp/?t=1'), {
      url: 'https://airlock.example/.well-known/oauth-protected-resource/a/mcp?t=1',
      paths: ['/.well-known/oauth-protected-resource/a/mcp', '/.well-known/oauth-protected-resource'],
    })
  })

  it('uses the bare well-known path for a resource without a path', () => {
    for (const resource of ['https://airlock.example', 'https://airlock.example/']) {
      assert.deepEqual(protectedResourceMetadataLocation(resource), {
        url: 'https://airlock.example/.well-known/oauth-protected-resource',
        paths: ['/.well-known/oauth-protected-resource'],
      })
    }
    assert.equal(
      protectedResourceMetadataLocation('http://127.0.0.1:3000/mcp').url,
      'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
    )
  })

  it('throws TypeError for a non-https resource', () => {
    assert.throws(() => protectedResourceMetadataLocation('http://airlock.example/mcp'), TypeError)
  })
})
