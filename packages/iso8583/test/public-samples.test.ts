// Byte strings and values below are taken as facts from public test suites (moov-io/iso8583,
// sitb-software/jsPOS); the tests themselves are ours.
import t from 'tap'
import { decodeTlv, encodeTlv, findTlv, getSpec, messageToJson } from '../src/index.js'
import { ascii, derive, hex, tiny } from './helpers.js'

t.test('moov-io spec87ascii 0100: LL ASCII PAN, fixed numerics, hex-ASCII bitmap', async (t) => {
  const spec = getSpec('iso87-ascii')
  const raw = ascii('01007000000000000000164242424242424242123456000000000100')
  const msg = spec.decode(raw)
  t.same(messageToJson(msg), { mti: '0100', fields: { '2': '4242424242424242', '3': '123456', '4': '000000000100' } })
  t.ok(spec.encode(msg).equals(raw), 'round trip is byte-exact')
  t.ok(spec.encode({ mti: '0100', fields: { '2': '4242424242424242', '3': '123456', '4': '100' } }).equals(raw), 'numeric padded left with zeros on encode')
})

t.test('moov-io three bitmaps: primary, secondary (bit 65 set) and tertiary', async (t) => {
  // moov's test spec has field 130 as a 1-character string; derive that from the ASCII spec.
  const spec = tiny({ '130': { type: 'an', encoding: 'ascii', length: 1 } }, { bitmap: { encoding: 'hex-ascii', tertiary: true } })
  const raw = ascii('01008000000000000000800000000000000040000000000000001')
  const msg = spec.decode(raw)
  t.same(msg.fields, { '130': '1' })
  t.ok(spec.encode(msg).equals(raw))
})

t.test('jsPOS 87B 0800: BCD MTI, binary bitmap, BCD and ASCII fields, BCD LLL prefixes', async (t) => {
  // jsPOS' own packager has DE 60 as LLL numeric, left-justified BCD.
  const spec = derive('iso87-binary', 'jspos-87b', {
    '60': { type: 'n', encoding: 'bcd', length: 999, prefix: { encoding: 'bcd', digits: 3 }, bcd: { justify: 'left' } },
  })
  const raw = hex('08000020000000C00012000105303030303037363431313130303030303131313130303200110000000100300003303031')
  const msg = spec.decode(raw)
  t.same(msg.fields, { '11': '000105', '41': '00000764', '42': '111000001111002', '60': '00000001003', '63': '001' })
  t.equal(msg.mti, '0800')
  t.ok(spec.encode(msg).equals(raw))
})

t.test('jsPOS 87A 0800: ASCII LL and LLL fields', async (t) => {
  const spec = getSpec('iso87-ascii')
  const raw = ascii('08000020000100C000160001050814002244000007641110000011110020110000000100306708THFDD30904M08915C0900567100016021V0:TestField62:0.009;09Z31000000003001')
  const msg = spec.decode(raw)
  t.same(msg.fields, {
    '11': '000105',
    '32': '14002244',
    '41': '00000764',
    '42': '111000001111002',
    '60': '00000001003',
    '62': '08THFDD30904M08915C0900567100016021V0:TestField62:0.009;09Z31000000',
    '63': '001',
  })
  t.ok(spec.encode(msg).equals(raw))
})

// moov-io exp/emv test ICC data: multi-byte tags (DF8129, DFEF4C), long-form lengths (81 AC),
// constructed private templates (FF8105, FFEE01, FFEE12).
const ICC =
  '4f07a00000000410105f2a0208405f2d047275656e82021980950500000000009a032410029c01009f02060000000001009f03060000000000009f0607a00000000410109f090200029f1a0208409f1e0834543734353038359f21030909329f33030000e89f34030000009f3501229f360200539f370409bc21069f3901919f4104000000069f530100df81290830f0f00030f0ff00dfee2601d1dfef4c06002700000000dfef4d28fd4b4f392e1278361252d85649e405b430b9cb5e57d5211ba81d00242dbbd987ffe099fbf92b422eff810581ac500a4d6173746572436172648407a00000000410109f6d02000156a1292a353438392a2a2a2a2a2a2a2a313433375e202f5e323330333230312a2a2a2a2a2a2a2a2a2a2a2a2a56c1307004c1af307c59842b4edd3e745d27e783f4fefefb36698568ee921be4b2d6ae066b1a8cac8aba5c29453da922bc7ed89f6ba1135489cccccccc1437d2303201cccccccccccccc9f6bc118c5e921e707dabbfc762d47986509668fd22f9b3dbd10cbd6ff81063cdf812ac11870b80a15602160f54503ce3f5d9116997adb85fcfcd5388edf812bc110e912f0f4c0d82d1075ccc984f9864127df8115060000000000ffffee012cdf300100df31c110ab6c422bbfb95378504cbc6683306641df32c11081592240b4e352d17af39b923ad115caffee120acdcdcd0701453de0000d'

t.test('moov-io EMV ICC data: BER-TLV decode, opaque private templates, exact re-encode', async (t) => {
  const data = hex(ICC)
  const nodes = decodeTlv(data)
  t.same(
    nodes.map((n) => n.tag),
    ['4F', '5F2A', '5F2D', '82', '95', '9A', '9C', '9F02', '9F03', '9F06', '9F09', '9F1A', '9F1E', '9F21', '9F33', '9F34', '9F35', '9F36', '9F37', '9F39', '9F41', '9F53', 'DF8129', 'DFEE26', 'DFEF4C', 'DFEF4D', 'FF8105', 'FF8106', 'FFEE01', 'FFEE12'],
  )
  t.equal(findTlv(nodes, '4F')!.value!.toString('hex'), 'a0000000041010')
  t.equal(findTlv(nodes, '9F02')!.value!.toString('hex'), '000000000100')
  t.equal(findTlv(nodes, '5F2A')!.value!.toString('hex'), '0840')
  t.equal(findTlv(nodes, 'DF8129')!.value!.length, 8)
  const ff8105 = findTlv(nodes, 'FF8105')!
  t.equal(ff8105.value!.length, 0xac, 'long-form length 81 AC')
  t.equal(ff8105.opaque, true, 'template with a malformed inner length is kept as bytes')
  for (const tag of ['FF8106', 'FFEE01', 'FFEE12']) t.equal(findTlv(nodes, tag)!.opaque, true, `${tag} kept as opaque bytes`)
  t.ok(encodeTlv(nodes).equals(data), 'exact round trip')

  // Carried in DE 55 of a binary message, the field itself round-trips as bytes.
  const spec = getSpec('iso87-binary')
  const packed = spec.encode({ mti: '0100', fields: { '3': '000000', '55': data } })
  const back = spec.decode(packed)
  t.ok(Buffer.from(back.fields['55'] as Uint8Array).equals(data))
  t.ok(spec.encode(back).equals(packed))
})

t.test('decode accepts a plain Uint8Array as well as a Buffer', async (t) => {
  const spec = getSpec('iso87-ascii')
  const raw = ascii('01007000000000000000164242424242424242123456000000000100')
  const u8 = new Uint8Array(raw)
  t.same(spec.decode(u8).fields, spec.decode(raw).fields)
  t.same(spec.scan(u8, [3]).fields, { '3': '123456' })
})
