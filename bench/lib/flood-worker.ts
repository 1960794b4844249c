// A flood of requests with a refused token from one local address, in its own process so that
// generating it does not stall the measuring client's event loop. Open loop: `rate` requests per
// second whatever the answers take (at most `maxInFlight` outstanding; the rest are counted as
// skipped), so both gateway variants face the same offered load. Runs until stdin closes, then
// prints `FLOOD {"sent":…,"skipped":…,"byStatus":{…},"seconds":…}`.
// argv: <mcp url> <local address> <rate per second> <bearer token>
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'

const [url = '', localAddress = '127.0.0.2', rateText = '500', token = ''] = process.argv.slice(2)
const rate = Number(rateText)
const maxInFlight = 256
const agent = new Agent({ keepAlive: true, maxSockets: 64, localAddress })
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } })
const byStatus: Record<string, number> = {}
let sent = 0
let skipped = 0
let inFlight = 0
const started = performance.now()

function count(status: string): void {
  byStatus[status] = (byStatus[status] ?? 0) + 1
  inFlight -= 1
}

function send(): void {
  if (inFlight >= maxInFlight) {
    skipped += 1
    return
  }
  inFlight += 1
  sent += 1
  const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` } }, (res) => {
    res.resume()
    res.on('end', () => count(String(res.statusCode)))
  })
  req.on('error', () => count('error'))
  req.end(body)
}

// Every 10 ms, as many requests as are due by now.
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - started) / 1000) * rate)
  while (sent + skipped < due) send()
}, 10)

process.stdin.on('close', () => {
  clearInterval(timer)
  const seconds = (performance.now() - started) / 1000
  const finish = () => {
    agent.destroy()
    process.stdout.write(`FLOOD ${JSON.stringify({ sent, skipped, byStatus, seconds })}\n`)
  }
  const wait = setInterval(() => {
    if (inFlight > 0) return
    clearInterval(wait)
    finish()
  }, 20)
})
process.stdin.resume()
process.stdout.write('FLOODING\n')
