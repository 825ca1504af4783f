import t from 'tap'
import { getSpec, messageFromJson, messageToJson, TAG_ORDER, type Composite, type Message } from '../src/index.js'
import { CP037, encodeText } from '../src/charsets.js'
import { hex, thrown, tiny } from './helpers.js'

const mc = getSpec('mastercard-cis')
const e = (s: string): string => encodeText(s, CP037).toString('hex')

t.test('Mastercard DE 48: TCC + tagged subelements (EBCDIC), known and unknown tags, wire order kept', async (t) => {
  // TCC R, subelement 92 (CVC 2) = 123, unknown 87 = "Y", subelement 42 = 2100000; tags deliberately not sorted.
  const de48 = 'R' + '92' + '03' + '123' + '87' + '01' + 'Y' + '42' + '07' + '2100000'
  const raw = hex('f0f1f0f0' + '0000000000010000' + e('024') + e(de48))
  const msg = mc.decode(raw)
  const f48 = msg.fields['48'] as Composite
  t.same(f48, { tcc: 'R', '92': '123', '87': 'Y', '42': '2100000' })
  t.same(f48[TAG_ORDER], ['92', '87', '42'])
  t.ok(mc.encode(msg).equals(raw), 'exact round trip keeps the tag order')
  // Built from scratch (no remembered order): tags in ascending order.
  const built = mc.encode({ mti: '0100', fields: { '48': { tcc: 'R', '92': '123', '42': '2100000' } } })
  t.equal(built.subarray(15).toString('hex'), e('R420721000009203123'))
  t.equal(thrown(() => mc.encode({ mti: '0100', fields: { '48': { tcc: 'R', '92': '1234' } } }))?.code, 'LENGTH_EXCEEDED', 'known subelement max length')
  t.equal(thrown(() => mc.decode(hex('f0f1f0f0' + '0000000000010000' + e('010') + e('R920312392')))) ?.code, 'TRUNCATED')
  t.equal(thrown(() => mc.decode(hex('f0f1f0f0' + '0000000000010000' + e('011') + e('R9201192011')))) ?.code, 'DUPLICATE_SUBFIELD')
  t.equal(thrown(() => mc.decode(hex('f0f1f0f0' + '0000000000010000' + e('006') + e('R92X11')))) ?.code, 'NON_NUMERIC_LENGTH')
})

t.test('Mastercard DE 61: positional subfields, optional trailing postal code (rest of field)', async (t) => {
  const full = '10251000300' + '01' + '250' + '75001'
  const raw = mc.encode({ mti: '0100', fields: { '61': { '1': '1', '2': '0', '3': '2', '4': '5', '5': '1', '6': '0', '7': '0', '8': '0', '9': '3', '10': '0', '11': '0', '12': '01', '13': '250', '14': '75001' } } })
  t.equal(raw.subarray(12).toString('hex'), e('021' + full))
  const back = mc.decode(raw)
  t.same((back.fields['61'] as Composite)['14'], '75001')
  t.ok(mc.encode(back).equals(raw))
  // Without postal code: 16 characters, subfield 14 absent.
  const short = mc.decode(hex('f0f1f0f0' + '0000000000000008' + e('016' + '1025100030001250')))
  t.notOk('14' in (short.fields['61'] as Composite))
  t.equal(thrown(() => mc.encode({ mti: '0100', fields: { '61': { '1': '1', '3': '2' } } }))?.code, 'MISSING_SUBFIELD')
  t.equal(thrown(() => mc.encode({ mti: '0100', fields: { '61': { '1': '1', '99': '2' } } }))?.code, 'UNDEFINED_FIELD')
  t.equal(thrown(() => mc.encode({ mti: '0100', fields: { '61': 'not an object' } }))?.code, 'INVALID_VALUE')
})

t.test('nested composites (bitmap > positional > tagged) and extra positional bytes kept as _rest', async (t) => {
  const spec = tiny({
    '62': {
      type: 'ans',
      encoding: 'ascii',
      length: 999,
      prefix: { encoding: 'ascii', digits: 3 },
      composite: {
        kind: 'bitmap',
        bitmap: { bytes: 1 },
        subfields: {
          '1': { type: 'an', encoding: 'ascii', length: 2 },
          '2': {
            type: 'ans',
            encoding: 'ascii',
            length: 99,
            prefix: { encoding: 'ascii', digits: 2 },
            composite: {
              kind: 'positional',
              subfields: {
                '1': { type: 'n', encoding: 'ascii', length: 3 },
                '2': {
                  type: 'ans',
                  encoding: 'ascii',
                  length: 50,
                  prefix: { encoding: 'ascii', digits: 2 },
                  composite: { kind: 'tagged', tag: { length: 2, encoding: 'ascii' }, len: { digits: 2, encoding: 'ascii' } },
                },
              },
            },
          },
        },
      },
    },
  })
  const msg: Message = { mti: '0100', fields: { '62': { '1': 'AB', '2': { '1': '123', '2': { '01': 'x', '02': 'yz' } } } } }
  const raw = spec.encode(msg)
  t.equal(raw.toString('latin1'), '0100' + '0000000000000004' + '021' + '\u00c0' + 'AB' + '16' + '123' + '11' + '0101x' + '0202yz')
  const back = spec.decode(raw)
  t.same(messageToJson(back), messageToJson(msg))
  t.ok(spec.encode(back).equals(raw))
  t.equal(spec.field('62.2.2')!.path, '62.2.2')

  // A positional composite longer than its subfields: the extra bytes survive the round trip.
  const pos = tiny({
    '61': { type: 'ans', encoding: 'ascii', length: 99, prefix: { encoding: 'ascii', digits: 2 }, composite: { kind: 'positional', subfields: { '1': { type: 'n', encoding: 'ascii', length: 2 } } } },
  })
  const extra = Buffer.from('0100' + '0000000000000008' + '05' + '12XYZ', 'latin1')
  const d = pos.decode(extra)
  t.same((d.fields['61'] as Composite)['_rest'], Buffer.from('XYZ'))
  t.ok(pos.encode(d).equals(extra))
  t.same(messageToJson(d).fields['61'], { '1': '12', _rest: '58595A' }, 'JSON shows undescribed bytes as hex')
  t.ok(pos.encode(messageFromJson(messageToJson(d))).equals(extra), 'and encodes back from JSON')
})
