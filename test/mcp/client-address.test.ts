import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { describe, it } from 'node:test'
import { createClientAddress, trustedProxyList } from '../../src/mcp/client-address.js'

/** A request as the HTTP server hands it over: a socket peer and headers. */
function request(peer: string | undefined, forwardedFor?: string | string[]): IncomingMessage {
  const socket = new Socket()
  Object.defineProperty(socket, 'remoteAddress', { value: peer })
  return { socket, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as IncomingMessage
}

describe('createClientAddress', () => {
  it('without trusted proxies: the socket peer, whatever X-Forwarded-For claims', () => {
    const address = createClientAddress(undefined)
    assert.equal(address(request('192.0.2.9', '203.0.113.1')), '192.0.2.9')
    assert.equal(address(request('::ffff:192.0.2.9')), '192.0.2.9', 'IPv4-mapped peers are unmapped')
    assert.equal(address(request('2001:db8::5')), '2001:db8::5')
    assert.equal(address(request(undefined)), 'unknown')
  })

  it('a peer that is not a trusted proxy cannot choose its address through the header', () => {
    const address = createClientAddress(trustedProxyList(['10.0.0.0/8']))
    assert.equal(address(request('192.0.2.9', '203.0.113.1')), '192.0.2.9')
  })

  it('behind trusted proxies: the right-most forwarded hop that is not itself a trusted proxy', () => {
    const address = createClientAddress(trustedProxyList(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']))
    assert.equal(address(request('10.1.2.3', '203.0.113.1')), '203.0.113.1')
    // The client wrote the left-most entries itself: they prove nothing.
    assert.equal(address(request('10.1.2.3', '198.51.100.66, 203.0.113.1')), '203.0.113.1')
    assert.equal(address(request('10.1.2.3', '203.0.113.1, 192.0.2.7')), '203.0.113.1', 'a chain of trusted proxies is walked')
    assert.equal(address(request('10.1.2.3', ['198.51.100.66', '203.0.113.1, 10.9.9.9'])), '203.0.113.1', 'repeated headers are one list')
    assert.equal(address(request('fd00::1', '2001:db8::77')), '2001:db8::77')
    assert.equal(address(request('::ffff:10.1.2.3', '::ffff:203.0.113.1')), '203.0.113.1')
  })

  it('falls back to the last trusted hop when the header is absent, empty or malformed', () => {
    const address = createClientAddress(trustedProxyList(['10.0.0.0/8']))
    assert.equal(address(request('10.1.2.3')), '10.1.2.3')
    assert.equal(address(request('10.1.2.3', '')), '10.1.2.3')
    assert.equal(address(request('10.1.2.3', 'not-an-ip')), '10.1.2.3')
    assert.equal(address(request('10.1.2.3', '203.0.113.1, garbage, 10.4.4.4')), '10.4.4.4')
    assert.equal(address(request('10.1.2.3', '10.4.4.4, 10.5.5.5')), '10.4.4.4', 'every hop trusted: the left-most one')
  })

  it('refuses an entry that is neither an address nor a CIDR block', () => {
    assert.throws(() => trustedProxyList(['ingress.example.com']), TypeError)
  })
})
