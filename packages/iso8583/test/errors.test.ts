import t, { type Test } from 'tap'
import { decodeTlv, encodeTlv, getSpec, Iso8583DecodeError, Iso8583Error } from '../src/index.js'
import { ascii, hex, thrown, tiny } from './helpers.js'

const PAN = '4761739001010010'
const visa = getSpec('visa-base1')
const iso = getSpec('iso87-ascii')
const bin = getSpec('iso87-binary')

/** Decode and return the error, checking it is typed and does not leak the PAN. */
function decodeErr(t: Test, spec: { decode(b: Buffer): unknown }, buf: Buffer): Iso8583Error {
  const e = thrown(() => spec.decode(buf))
  t.ok(e instanceof Iso8583DecodeError, 'typed decode error')
  t.notMatch(e!.message, /4761739001010010|476173/, 'message never carries the value')
  return e as Iso8583Error
}

t.test('each decode failure has its own code, a field path and a byte offset', async (t) => {
  const ok = iso.encode({ mti: '0100', fields: { '2': PAN, '3': '000000', '4': '000000000100' } })
  const cases: [string, { decode(b: Buffer): unknown }, Buffer, string, string, number][] = [
    ['non-numeric MTI', iso, ascii('01A0' + ok.subarray(4).toString('latin1')), 'INVALID_MTI', 'mti', 2],
    ['unknown MTI', visa, hex('0999 0000000000000000'), 'UNKNOWN_MTI', 'mti', 0],
    ['bad hex bitmap', iso, ascii('0100700000000000000g'), 'INVALID_BITMAP', 'bitmap', 18],
    ['empty secondary bitmap', bin, hex('0100 8000000000000000 0000000000000000'), 'NON_CANONICAL_BITMAP', 'bitmap', 18],
    ['bitmap bit for an undefined field', tiny({ '3': { type: 'n', encoding: 'ascii', length: 6 } }), ascii('0100' + '6000000000000000' + '16' + PAN), 'UNDEFINED_FIELD', '2', 20],
    ['trailing bytes', iso, Buffer.concat([ok, ascii('X')]), 'TRAILING_BYTES', '', ok.length],
    ['truncated fixed field', iso, ok.subarray(0, ok.length - 3), 'TRUNCATED', '4', 44],
    ['truncated bitmap', iso, ok.subarray(0, 10), 'TRUNCATED', 'bitmap', 4],
    ['length over max (LL 20 > 19)', iso, ascii('0100' + '4000000000000000' + '20' + PAN + '0000'), 'LENGTH_EXCEEDED', '2', 20],
    ['non-numeric length prefix', iso, ascii('0100' + '4000000000000000' + '1X' + PAN), 'NON_NUMERIC_LENGTH', '2', 21],
    ['non-numeric BCD length prefix', bin, hex('0100 4000000000000000 1A 4761739001010010'), 'NON_NUMERIC_LENGTH', '2', 10],
    ['invalid BCD nibble', visa, hex('0100 2000000000000000 00A000'), 'INVALID_BCD_NIBBLE', '3', 11],
    ['invalid BCD pad nibble', visa, hex('0100 0000200000000000 F123'), 'INVALID_BCD_PAD', '19', 10],
    ['non-digit in a numeric text field', iso, ascii('0100' + '2000000000000000' + '00000A'), 'INVALID_CHARACTER', '3', 25],
    ['field runs past the frame', visa, hex('0100 4000000000000000 10 47617390'), 'TRUNCATED', '2', 11],
  ]
  for (const [name, spec, buf, code, path, offset] of cases) {
    const e = decodeErr(t, spec, buf)
    t.equal(e.code, code, `${name}: code`)
    t.equal(e.fieldPath, path, `${name}: path`)
    t.equal(e.offset, offset, `${name}: offset`)
  }
})

t.test('encode failures are typed too', async (t) => {
  const codes = (fn: () => unknown): string | undefined => thrown(fn)?.code
  t.equal(codes(() => iso.encode({ mti: '100', fields: {} })), 'INVALID_MTI')
  t.equal(codes(() => visa.encode({ mti: '0999', fields: {} })), 'UNKNOWN_MTI')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '1': 'x' } })), 'UNDEFINED_FIELD')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '02': PAN } })), 'UNDEFINED_FIELD')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '2': PAN + '0000' } })), 'LENGTH_EXCEEDED')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '3': '1234567' } })), 'LENGTH_EXCEEDED')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '3': '12a' } })), 'INVALID_CHARACTER')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '43': 'naïve €' } })), 'INVALID_CHARACTER')
  t.equal(codes(() => iso.encode({ mti: '0100', fields: { '3': Buffer.from('00') } })), 'INVALID_VALUE')
  t.equal(codes(() => visa.encode({ mti: '0100', fields: { '62': { '99': 'x' } } })), 'UNDEFINED_FIELD')
  const e = thrown(() => iso.encode({ mti: '0100', fields: { '2': PAN + 'ABCD' } }))
  t.notMatch(e!.message, /4761/, 'no value in the message')
  t.equal(e!.fieldPath, '2')
})

t.test('TLV errors', async (t) => {
  t.equal(thrown(() => decodeTlv(hex('9F')))?.code, 'TLV_TRUNCATED')
  t.equal(thrown(() => decodeTlv(hex('9F26')))?.code, 'TLV_TRUNCATED')
  t.equal(thrown(() => decodeTlv(hex('9F2608 0102')))?.code, 'TLV_LENGTH_OVERFLOW')
  t.equal(thrown(() => decodeTlv(hex('5A 85 0000000001 00')))?.code, 'TLV_LENGTH_OVERFLOW', 'more than 4 length bytes')
  t.equal(thrown(() => decodeTlv(hex('5A 80')))?.code, 'TLV_LENGTH_OVERFLOW', 'indefinite length')
  t.equal(thrown(() => decodeTlv(hex('5A 84 FFFFFFFF')))?.code, 'TLV_LENGTH_OVERFLOW', 'huge length never allocates')
  t.equal(thrown(() => decodeTlv(hex('1F818181 01 00')))?.code, 'TLV_INVALID_TAG')
  const e = thrown(() => decodeTlv(hex('9F2608 0102'), '55'))
  t.equal(e?.fieldPath, '55.9F26')
  t.equal(thrown(() => encodeTlv([{ tag: '9g', value: Buffer.alloc(1) }]))?.code, 'TLV_INVALID_TAG')
  // non-minimal long-form length is remembered
  const odd = hex('5A 81 02 1234 9F02 820003 000001')
  const nodes = decodeTlv(odd)
  t.equal(nodes[0]!.lengthBytes, 2)
  t.ok(encodeTlv(nodes).equals(odd))
  // constructed template parsed into children
  const tpl = hex('70 07 5F34 01 01 9F08 00')
  t.same(decodeTlv(tpl)[0]!.children!.map((n) => n.tag), ['5F34', '9F08'])
})

t.test('spec errors', async (t) => {
  t.equal(thrown(() => getSpec('nope'))?.code, 'UNKNOWN_SPEC')
  t.equal(thrown(() => tiny({ '2': { type: 'n', encoding: 'binary', length: 19 } }))?.code, 'INVALID_SPEC')
})

t.test('encode rejects a value that is not a message', async (t) => {
  t.equal(thrown(() => iso.encode({ mti: '0100' } as never))?.code, 'INVALID_VALUE')
  t.equal(thrown(() => iso.encode(null as never))?.code, 'INVALID_VALUE')
})
