import t from 'tap'
import { CP037, CP1047, decodeText, encodeText } from '../src/index.js'
import { ascii, hex, thrown, tiny } from './helpers.js'

const bin = { mti: { encoding: 'bcd' as const }, bitmap: { encoding: 'binary' as const } }

t.test('EBCDIC code pages: cp037 and cp1047 tables', async (t) => {
  t.equal(encodeText('0100', CP037).toString('hex'), 'f0f1f0f0')
  t.equal(encodeText('Az09 ', CP037).toString('hex'), 'c1a9f0f940')
  t.equal(encodeText('[]^', CP037).toString('hex'), 'babbb0', 'cp037 brackets and caret')
  t.equal(encodeText('[]^', CP1047).toString('hex'), 'adbd5f', 'cp1047 differs for brackets and caret')
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  for (const cs of [CP037, CP1047]) t.ok(encodeText(decodeText(all, cs), cs).equals(all), `${cs.name} is a bijection`)
})

t.test('EBCDIC MTI, numerics, text and LL/LLL prefixes', async (t) => {
  const spec = tiny(
    {
      '2': { type: 'n', encoding: 'ebcdic', length: 19, prefix: { encoding: 'ebcdic', digits: 2 } },
      '3': { type: 'n', encoding: 'ebcdic', length: 6 },
      '43': { type: 'ans', encoding: 'ebcdic', length: 10 },
      '48': { type: 'ans', encoding: 'ebcdic', length: 999, prefix: { encoding: 'ebcdic', digits: 3 } },
    },
    { mti: { encoding: 'ebcdic' }, bitmap: { encoding: 'binary' } },
  )
  const msg = { mti: '0100', fields: { '2': '4761739001010010', '3': '000000', '43': 'Café', '48': 'R[x]' } }
  const raw = spec.encode(msg)
  t.equal(
    raw.toString('hex'),
    'f0f1f0f0' + '6000000000210000' + 'f1f6' + 'f4f7f6f1f7f3f9f0f0f1f0f1f0f0f1f0' + 'f0f0f0f0f0f0' + 'c3818651404040404040' + 'f0f0f4' + 'd9baa7bb',
  )
  const back = spec.decode(raw)
  t.same(back.fields, { ...msg.fields, '43': 'Café      ' }, 'text padded right with spaces, kept on decode')
  t.ok(spec.encode(back).equals(raw))
})

t.test('BCD numerics: right-justified (pad first) and left-justified (pad last), pad nibble F', async (t) => {
  const spec = tiny(
    {
      '2': { type: 'n', encoding: 'bcd', length: 19, prefix: { encoding: 'bcd', digits: 2 } },
      '3': { type: 'n', encoding: 'bcd', length: 3 },
      '32': { type: 'n', encoding: 'bcd', length: 11, prefix: { encoding: 'binary', bytes: 1 }, bcd: { justify: 'left', pad: 'F' } },
      '35': { type: 'z', encoding: 'bcd', length: 37, prefix: { encoding: 'bcd', digits: 2 }, bcd: { justify: 'left', pad: 'F' } },
    },
    bin,
  )
  const msg = { mti: '0200', fields: { '2': '476173900101001', '3': '123', '32': '12345', '35': '4761739001010010D2812201' } }
  const raw = spec.encode(msg)
  t.equal(
    raw.toString('hex'),
    '0200' + '6000000120000000' + '15' + '0476173900101001' + '0123' + '05' + '12345f' + '24' + '4761739001010010d2812201',
  )
  const back = spec.decode(raw)
  t.same(back.fields, msg.fields)
  t.ok(spec.encode(back).equals(raw))
  t.equal(spec.encode({ mti: '0200', fields: { '35': '4761=2812' } }).subarray(10).toString('hex'), '094761d2812f', "'=' separator accepted as D")
})

t.test('BCD prefixes L..LLLLLL and binary prefixes of 1, 2 and 4 bytes', async (t) => {
  const cases: [string, { encoding: 'bcd' | 'binary' | 'ascii'; digits?: number; bytes?: number }, number, string][] = [
    ['bcd L', { encoding: 'bcd', digits: 1 }, 9, '05'],
    ['bcd LLL', { encoding: 'bcd', digits: 3 }, 999, '0005'],
    ['bcd LLLLLL', { encoding: 'bcd', digits: 6 }, 999999, '000005'],
    ['ascii LLLL', { encoding: 'ascii', digits: 4 }, 9999, '30303035'],
    ['binary 1', { encoding: 'binary', bytes: 1 }, 255, '05'],
    ['binary 2', { encoding: 'binary', bytes: 2 }, 65535, '0005'],
    ['binary 4', { encoding: 'binary', bytes: 4 }, 99999, '00000005'],
  ]
  for (const [name, prefix, max, expected] of cases) {
    const spec = tiny({ '48': { type: 'ans', encoding: 'ascii', length: max, prefix } }, bin)
    const raw = spec.encode({ mti: '0100', fields: { '48': 'HELLO' } })
    t.equal(raw.subarray(10).toString('hex'), expected + '48454c4c4f', name)
    t.same(spec.decode(raw).fields, { '48': 'HELLO' }, `${name} decodes`)
  }
})

t.test('length units: digits, chars and bytes', async (t) => {
  const spec = tiny(
    {
      '2': { type: 'n', encoding: 'bcd', length: 10, prefix: { encoding: 'binary', bytes: 1 }, unit: 'bytes' },
      '55': { type: 'b', encoding: 'hex-ascii', length: 999, prefix: { encoding: 'ascii', digits: 3 }, unit: 'chars' },
      '56': { type: 'b', encoding: 'hex-ascii', length: 99, prefix: { encoding: 'ascii', digits: 2 } },
    },
    bin,
  )
  const raw = spec.encode({ mti: '0100', fields: { '2': '1234', '55': Buffer.from('9F2601AB', 'hex'), '56': 'cafe' } })
  t.equal(raw.subarray(10).toString('latin1'), '\u0002\u0012\u0034' + '0089F2601AB' + '02CAFE')
  const back = spec.decode(raw)
  t.equal(Buffer.from(back.fields['55'] as Uint8Array).toString('hex'), '9f2601ab')
  t.equal(Buffer.from(back.fields['56'] as Uint8Array).toString('hex'), 'cafe')
})

t.test('hex-EBCDIC bitmap and binary field', async (t) => {
  const spec = tiny({ '52': { type: 'b', encoding: 'hex-ebcdic', length: 8 } }, { mti: { encoding: 'ebcdic' }, bitmap: { encoding: 'hex-ebcdic' } })
  const raw = spec.encode({ mti: '0800', fields: { '52': '0123456789ABCDEF' } })
  t.equal(raw.subarray(0, 20).toString('hex'), 'f0f8f0f0' + 'f0f0f0f0f0f0f0f0f0f0f0f0f1f0f0f0')
  t.equal(raw.subarray(20).toString('hex'), 'f0f1f2f3f4f5f6f7f8f9c1c2c3c4c5c6')
  t.same(spec.decode(raw).fields['52'], Buffer.from('0123456789ABCDEF', 'hex'))
})

t.test('x+n amounts: ASCII, EBCDIC and BCD digits with a sign character', async (t) => {
  const spec = tiny(
    {
      '28': { type: 'x+n', encoding: 'ascii', length: 8 },
      '29': { type: 'x+n', encoding: 'bcd', length: 8, signEncoding: 'ascii' },
      '30': { type: 'x+n', encoding: 'bcd', length: 8, signEncoding: 'ebcdic' },
      '31': { type: 'x+n', encoding: 'ebcdic', length: 8 },
    },
    bin,
  )
  const msg = { mti: '0100', fields: { '28': 'D00000150', '29': 'C00000200', '30': 'D00000300', '31': 'C00000400' } }
  const raw = spec.encode(msg)
  t.equal(raw.subarray(10).toString('hex'), '443030303030313530' + '4300000200' + 'c400000300' + 'c3f0f0f0f0f0f4f0f0')
  t.same(spec.decode(raw).fields, msg.fields)
  t.equal(thrown(() => spec.decode(Buffer.concat([raw.subarray(0, 10), ascii('X00000150'), raw.subarray(19)])))?.code, 'INVALID_CHARACTER')
})

t.test('fixed binary field must have the exact length', async (t) => {
  const spec = tiny({ '52': { type: 'b', encoding: 'binary', length: 8 } }, bin)
  t.equal(thrown(() => spec.encode({ mti: '0100', fields: { '52': hex('0102') } }))?.code, 'INVALID_LENGTH')
  t.equal(thrown(() => spec.encode({ mti: '0100', fields: { '52': 'XYZ' } }))?.code, 'INVALID_HEX')
})
