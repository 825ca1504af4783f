import t from 'tap'
import { isExpired, planCapture, planHold, planRelease } from '../src/domain/holds.js'

void t.test('planHold: funds boundary, partial, force', async (t) => {
  t.same(planHold({ requested: 100, available: 100, allowPartial: false, force: false }), { kind: 'full', amount: 100 })
  t.same(planHold({ requested: 101, available: 100, allowPartial: false, force: false }), { kind: 'insufficient', amount: 0 })
  t.same(planHold({ requested: 101, available: 100, allowPartial: true, force: false }), { kind: 'partial', amount: 100 })
  t.same(planHold({ requested: 5, available: 0, allowPartial: true, force: false }), { kind: 'insufficient', amount: 0 })
  t.same(planHold({ requested: 5, available: -20, allowPartial: true, force: false }), { kind: 'insufficient', amount: 0 })
  t.same(planHold({ requested: 500, available: -20, allowPartial: false, force: true }), { kind: 'full', amount: 500 })
  t.throws(() => planHold({ requested: 0, available: 10, allowPartial: false, force: false }), RangeError)
  t.throws(() => planHold({ requested: 1.5, available: 10, allowPartial: false, force: false }), RangeError)
})

void t.test('planRelease: full by default, never more than held', async (t) => {
  t.same(planRelease(300), { release: 300, remaining: 0 })
  t.same(planRelease(300, 100), { release: 100, remaining: 200 })
  t.same(planRelease(300, 900), { release: 300, remaining: 0 })
  t.same(planRelease(0, 10), { release: 0, remaining: 0 })
})

void t.test('planCapture: partial, final, over-capture', async (t) => {
  t.same(planCapture(1000, 400, false), { debit: 400, fromHold: 400, released: 0, remaining: 600 })
  t.same(planCapture(1000, 400, true), { debit: 400, fromHold: 400, released: 600, remaining: 0 })
  t.same(planCapture(1000, 1200, true), { debit: 1200, fromHold: 1000, released: 0, remaining: 0 })
})

void t.test('isExpired at the boundary', async (t) => {
  const now = new Date('2026-11-22T00:00:00Z')
  t.ok(isExpired(now, now))
  t.notOk(isExpired(new Date(now.getTime() + 1), now))
})
