import t from 'tap'
import { luhnValid, maskPan, scrubDeep, scrubJsonLine, scrubPan } from '../src/index.js'

t.test('luhn', async (t) => {
  t.ok(luhnValid('4111111111111111'))
  t.ok(luhnValid('378282246310005'))
  t.notOk(luhnValid('4111111111111112'))
})

t.test('masks Luhn-valid runs to first 6 / last 4', async (t) => {
  t.equal(scrubPan('pan=4111111111111111;'), 'pan=411111******1111;')
  t.equal(scrubPan('x4111111111111111y'), 'x411111******1111y')
  t.equal(scrubPan('4111 1111 1111 1111'), '4111 11** **** 1111')
  t.equal(scrubPan('4111-1111-1111-1111'), '4111-11**-****-1111')
  t.equal(scrubPan('amex 3782-822463-10005'), 'amex 3782-82****-*0005')
  t.equal(scrubPan('19 digits 4000000000000000006'), '19 digits 400000*********0006')
  t.equal(scrubPan('ref 1234 4111 1111 1111 1111'), 'ref 1234 4111 11** **** 1111')
  t.equal(
    scrubPan('5555 5555 5555 4444 4111 1111 1111 1111'),
    '5555 55** **** 4444 4111 11** **** 1111',
    'two grouped PANs in a row',
  )
  t.equal(maskPan('4111111111111111'), '411111******1111')
})

t.test('leaves non-PANs alone', async (t) => {
  for (const s of [
    '4111111111111112',
    '2026-11-22T02:39:24.123Z',
    '2026-11-22 02:39:24',
    '1763779164000',
    'call 0800-123-4567',
    'v1.2.3-4567-890',
    'amount 000000012345',
    '12345678901234567890123',
  ]) {
    t.equal(scrubPan(s), s, s)
  }
})

t.test('scrubJsonLine keeps the line valid JSON', async (t) => {
  const line = JSON.stringify({ a: 4111111111111111, b: 'x 4111111111111111', t: 1763779164000, n: [5555555555554444] })
  const out = scrubJsonLine(line)
  t.same(JSON.parse(out), { a: '411111******1111', b: 'x 411111******1111', t: 1763779164000, n: ['555555******4444'] })
})

t.test('scrubDeep covers keys, numbers, errors and cycles', async (t) => {
  const cyc: Record<string, unknown> = { '4111111111111111': 'k', num: 4111111111111111 }
  cyc.self = cyc
  const err = new Error('bad 4111111111111111', { cause: new Error('inner 5555555555554444') })
  const out = JSON.stringify(scrubDeep({ cyc, err }))
  t.notMatch(out, /4111111111111111|5555555555554444/)
  t.match(out, /\[Circular\]/)
})
