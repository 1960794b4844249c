import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'

/** The address a request comes from, as limits and audit records see it. */
export type ClientAddress = (req: IncomingMessage) => string

function unmapped(address: string): string {
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4'
}

/**
 * Builds the trusted-proxy list from addresses and CIDR blocks (`10.0.0.0/8`, `fd00::/8`,
 * `192.0.2.7`). Throws TypeError for an entry that is neither (config validation refuses them first).
 */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/')
    const kind = isIP(address)
    if (kind === 0) throw new TypeError(`trusted proxy ${JSON.stringify(entry)} is not an IP address or CIDR block`)
    if (bits === undefined) list.addAddress(address, kind === 6 ? 'ipv6' : 'ipv4')
    else list.addSubnet(address, Number(bits), kind === 6 ? 'ipv6' : 'ipv4')
  }
  return list
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy; then the
 * right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left were
 * written by the client and prove nothing). With no trusted proxies the header is never read, so
 * a client cannot pick the address it is counted under.
 */
export function createClientAddress(trusted: BlockList | undefined): ClientAddress {
  const isTrusted = (address: string) => trusted !== undefined && isIP(address) !== 0 && trusted.check(address, family(address))
  return function clientAddress(req) {
    const peer = unmapped(req.socket.remoteAddress ?? 'unknown')
    if (!isTrusted(peer)) return peer
    const header = req.headers['x-forwarded-for']
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((hop) => unmapped(hop.trim()))
    let client = peer
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? ''
      // A malformed hop was written by (or passed through) a trusted proxy: stop at the last proxy known.
      if (isIP(hop) === 0) break
      client = hop
      if (!isTrusted(hop)) break
    }
    return client
  }
}
