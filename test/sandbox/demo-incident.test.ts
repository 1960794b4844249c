import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { passesLuhn } from '../../src/guard/masking/detect-sensitive-values.js'
import { failedPaymentTimes, nginxLogs, paymentsRuns, PAYMENTS_UPSTREAM } from '../../src/sandbox/demo-incident.js'
import { createDemoFixtures } from '../../src/sandbox/kube-api/kube-fixtures.js'
import { demoCustomers, demoOrders, withLuhnCheckDigit } from '../../src/sandbox/rds-data/seed-demo.js'

const NOW = Date.UTC(2026, 11, 2, 14, 0, 0)
const minute = (ms: number) => new Date(ms).toISOString().slice(11, 16)

describe('the demo incident: payments crash-loops, web-1 answers 502, orders fail, at the same times', () => {
  it('gives every demo card number a valid Luhn check digit, so the card detector masks them', () => {
    const cards = demoCustomers().flatMap((c) => (c.cardNumber === null ? [] : [c.cardNumber]))
    assert.ok(cards.length >= 10, `enough cards to show (${cards.length})`)
    for (const card of cards) {
      assert.match(card, /^4111-1111-1111-\d{4}$/)
      assert.ok(passesLuhn(card.replaceAll('-', '')), `${card} passes Luhn`)
    }
    assert.equal(new Set(cards).size, cards.length, 'all different')
    assert.equal(withLuhnCheckDigit('411111111111111'), '4111111111111111')
    assert.equal(withLuhnCheckDigit('7992739871'), '79927398713')
  })

  it("places the payments pod's runs, web-1's 502s and the failed orders in the same minutes", () => {
    const runs = paymentsRuns(NOW)
    const fixtures = createDemoFixtures(NOW)
    const pod = fixtures.objects.find((o) => o.kind === 'Pod' && String((o.metadata as { name: string }).name).startsWith('payments-'))
    const status = (pod?.status as { containerStatuses: { restartCount: number; lastState: { terminated: { startedAt: string } } }[] }).containerStatuses[0]
    assert.equal(status?.restartCount, runs.length - 1)
    assert.equal(status?.lastState.terminated.startedAt, new Date(runs.at(-2) ?? 0).toISOString().replace('.000Z', 'Z'))
    const previous = [...fixtures.logs.entries()].find(([key]) => key.endsWith('/payments/previous'))?.[1] ?? []
    assert.match(previous.map((l) => l.text).join('\n'), /password authentication failed for user "payments"/)

    const failed = demoOrders(NOW).filter((o) => o.status === 'payment_failed')
    assert.equal(failed.length, failedPaymentTimes(NOW).length)
    const failedMinutes = new Set(failed.map((o) => o.createdAt.slice(11, 16)))
    assert.deepEqual(failedMinutes, new Set(runs.map(minute)), 'one burst per crash of payments')

    const { error, access } = nginxLogs('web-1', NOW)
    const upstreamErrors = error.split('\n').filter((line) => line.includes(PAYMENTS_UPSTREAM))
    assert.equal(upstreamErrors.length, failed.length)
    assert.deepEqual(new Set(upstreamErrors.map((line) => line.slice(11, 16))), failedMinutes)
    assert.equal(access.split('\n').filter((line) => line.includes('" 502 ')).length, failed.length)
    const web2 = nginxLogs('web-2', NOW)
    assert.doesNotMatch(web2.error + web2.access, /upstream| 502 /, 'only web-1 proxies payments')
  })

  it('keeps the ordinary orders before the incident and the paid ones just before it', () => {
    const orders = demoOrders(NOW)
    const first = failedPaymentTimes(NOW)[0] ?? 0
    const paid = orders.filter((o) => o.createdAt.startsWith('2026-12-02') && o.status === 'paid')
    assert.ok(paid.length > 0 && paid.every((o) => Date.parse(`${o.createdAt.replace(' ', 'T')}Z`) < first), 'paid orders precede the first failure')
    assert.equal(new Set(orders.map((o) => o.id)).size, orders.length, 'ids are unique')
  })
})
