import t from 'tap'
import type { VisaLinkClient } from '@cardplane/tool-sim'
import { fixedRate, type LoadTarget } from '../src/load.js'

/**
 * A scheme link that answers every request at once: DE 39 "91" for the first `failFirst` requests, "00"
 * after. (The load generator's scheduling is under test here, not
 * the platform: bench:auth drives the real one.)
 */
function link(failFirst: number): VisaLinkClient & { sentAt: number[] } {
  let stan = 0
  const sentAt: number[] = []
  return {
    sentAt,
    nextStan: () => String(++stan).padStart(6, '0'),
    async send() {
      sentAt.push(performance.now())
      return { message: { mti: '0110', fields: { '39': sentAt.length <= failFirst ? '91' : '00' } }, latencyMs: 0, raw: Buffer.alloc(0) }
    },
  } as unknown as VisaLinkClient & { sentAt: number[] }
}

const card = { cardId: 'card_1', accountId: 'acc_1', pan: '4539910000000006', expiry: '2812', cvv2: '123' }

void t.test('the settle is sent at the rate but not timed; its errors still count; CPU accounting starts after it', async (t) => {
  const l = link(3)
  const target: LoadTarget = { links: [l], cards: [card], expect: '00', amountMinor: 100 }
  let measuringAfter = -1
  const r = await fixedRate('t', target, 200, 0.2, { settleS: 0.1, onMeasuring: () => (measuringAfter = l.sentAt.length) })
  t.equal(l.sentAt.length, 60, '0.3 s at 200/s')
  t.equal(measuringAfter, 20, 'onMeasuring ran once the 20 settle requests were sent')
  t.same(r.settle, { seconds: 0.1, sent: 20, answered: 20, errors: 3 })
  t.equal(r.sent, 40, 'the timed requests')
  t.equal(r.errors, 3, "the settle's errors are the run's errors")
  t.same(r.errorsByKind, { settle_de39_91: 3 })
})

void t.test('no settle: every request is timed', async (t) => {
  const l = link(0)
  const r = await fixedRate('t', { links: [l], cards: [card], expect: '00', amountMinor: 100 }, 100, 0.1, { settleS: 0 })
  t.equal(r.sent, 10)
  t.equal(r.settle, undefined)
  t.equal(r.errors, 0)
})

void t.test('onFailed: each timed failure with its due time and kind; the settle is not reported', async (t) => {
  // Fails the 3rd and 13th request (the 3rd in the settle), and throws on the 15th like a timed-out link.
  const l = link(0)
  const send = l.send.bind(l)
  let n = 0
  l.send = async (m) => {
    n++
    if (n === 15) throw Object.assign(new Error('no answer'), { code: 'timeout' })
    const a = await send(m)
    return n === 3 || n === 13 ? { ...a, message: { ...a.message, fields: { '39': '05' } } } : a
  }
  const failed: { dueAt: number; kind: string }[] = []
  const answered: number[] = []
  const r = await fixedRate('t', { links: [l], cards: [card], expect: '00', amountMinor: 100 }, 100, 0.1, {
    settleS: 0.05,
    onAnswered: (_f, dueAt) => answered.push(dueAt),
    onFailed: (dueAt, kind) => failed.push({ dueAt, kind }),
  })
  t.same(failed.map((f) => f.kind), ['de39_05', 'timeout'])
  t.same(r.errorsByKind, { de39_05: 1, timeout: 1, settle_de39_05: 1 })
  t.equal(answered.length, 9, 'ten timed, one never answered')
  t.ok(answered.includes(failed[0]!.dueAt), 'a wrong DE 39 is answered and failed, with the same due time')
  t.notOk(answered.includes(failed[1]!.dueAt))
  t.ok(failed[1]!.dueAt > failed[0]!.dueAt)
})
