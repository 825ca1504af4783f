import t from 'tap'
import { decodeTlv, frame, FrameSplitter, getSpec, respond, splitVisaMessage, unframe, VisaHeader, type Message } from '../src/index.js'
import { visa0100 } from './fixtures.js'
import { hex, thrown } from './helpers.js'

const spec = getSpec('visa-base1')

t.test('visa-base1 0100: bytes computed by hand from the field layout', async (t) => {
  const msg: Message = {
    mti: '0100',
    fields: {
      '2': '4761739001010010',
      '3': '000000',
      '4': '000000012345',
      '22': '0510',
      '35': '4761739001010010D28122011234567890',
      '41': 'TERM0001',
      '55': hex('01000B 9F2608 1122334455667788'),
      '62': { '1': 'Y', '2': '123456789012345' },
      '63': { '1': '0002', '3': '2501' },
    },
  }
  const expected = hex(`
    0100 7000040020800206
    10 4761739001010010
    000000
    000000012345
    0510
    22 4761739001010010D28122011234567890
    E3C5D9D4F0F0F0F1
    0E 01000B9F26081122334455667788
    11 C000000000000000 E8 0123456789012345
    07 A00000 0002 2501`)
  const raw = spec.encode(msg)
  t.equal(raw.toString('hex').toUpperCase(), expected.toString('hex').toUpperCase())
  const back = spec.decode(raw)
  t.same(back.fields['62'], { '1': 'Y', '2': '123456789012345' }, 'DE 62.2 transaction identifier')
  t.same(back.fields['63'], { '1': '0002', '3': '2501' })
  t.ok(spec.encode(back).equals(raw))
})

t.test('visa-base1 fixture 0100 (23 fields, DE 55, 62, 63) round-trips; DE 55 TLV after the dataset header', async (t) => {
  const msg = visa0100()
  const raw = spec.encode(msg)
  const back = spec.decode(raw)
  t.same(Object.keys(back.fields), Object.keys(msg.fields))
  t.ok(spec.encode(back).equals(raw))
  const de55 = back.fields['55'] as Uint8Array
  const tlv = decodeTlv(de55.subarray(spec.field('55')!.def.tlv!.offset ?? 0))
  t.equal(tlv[0]!.tag, '9F26')
  t.equal(spec.field('62.2')!.def.name, 'Transaction identifier')
})

t.test('DE 126 bitmap subfields incl. CVV2 request data and an undefined subfield kept as _rest', async (t) => {
  const msg: Message = { mti: '0100', fields: { '126': { '10': '11 123', '13': 'R' } } }
  const raw = spec.encode(msg)
  // bitmap: secondary present; 126 in the secondary bitmap
  t.equal(raw.subarray(2, 18).toString('hex'), '80000000000000000000000000000004')
  t.equal(raw.subarray(18).toString('hex'), '0f' + '0048000000000000' + 'f1f140f1f2f3' + 'd9')
  t.same(spec.decode(raw).fields['126'], msg.fields['126'])
  // Bits 10, 11 (undefined in the spec) and 13.
  const fixed = Buffer.concat([raw.subarray(0, 18), hex('11 0068000000000000 F1F140F1F2F3 ABCD D9')])
  const back = spec.decode(fixed)
  const f126 = back.fields['126'] as Record<string, unknown>
  t.equal(f126['10'], '11 123')
  t.same(f126['_rest'], { bits: '11,13', data: hex('ABCDD9') }, 'undefined subfield and everything after it kept')
  t.ok(spec.encode(back).equals(fixed), 'round trip with an undefined subfield')
})

t.test('VMLH framing + BASE I header: decode, response swap, reject header', async (t) => {
  const body = spec.encode(visa0100())
  const h = VisaHeader.create('123456', '654321')
  h.roundTripControl = 0x00
  h.base1Flags = 0x0000
  h.messageStatusFlags = 0x000000
  h.userInfo = 0
  const header = VisaHeader.encode(h, body.length)
  t.equal(header.length, 22)
  t.equal(header[0], 0x16, 'H1 = 22')
  t.equal(header[1], 0x01, 'H2 header format')
  t.equal(header[2], 0x02, 'H3 text format')
  t.equal(header.readUInt16BE(3), 22 + body.length, 'H4 = header + message')
  t.equal(header.subarray(5, 8).toString('hex'), '123456', 'H5 destination in BCD')
  t.equal(header.subarray(8, 11).toString('hex'), '654321', 'H6 source in BCD')
  const wire = frame('vmlh', Buffer.concat([header, body]))
  t.equal(wire.readUInt16BE(0), 22 + body.length)
  t.equal(wire.readUInt16BE(2), 0, 'VMLH reserved bytes')

  const splitter = new FrameSplitter({ kind: 'vmlh', maxFrameSize: 4096 })
  const events = [...splitter.push(wire.subarray(0, 3)), ...splitter.push(wire.subarray(3, 40)), ...splitter.push(wire.subarray(40))]
  t.equal(events.length, 1)
  const ev = events[0]!
  if (ev.type !== 'message') throw new Error('expected a message')
  const { header: dh, body: db } = splitVisaMessage(ev.payload)
  t.equal(dh.destinationId, '123456')
  t.equal(dh.sourceId, '654321')
  t.ok(db.equals(body))

  const resp = respond(spec.decode(db), { copy: ['2', '3', '4', '7', '11', '32', '37', '41', '42', '49', '62'], set: { '39': '00', '38': 'A1B2C3' } })
  t.equal(resp.mti, '0110')
  t.same((resp.fields['62'] as Record<string, string>)['2'], '123456789012345', 'transaction identifier echoed')
  const respBody = spec.encode(resp)
  const rh = VisaHeader.response(dh)
  t.equal(rh.destinationId, '654321', 'response goes back to the source')
  t.equal(rh.sourceId, '123456')
  const rWire = Buffer.concat([VisaHeader.encode(rh, respBody.length), respBody])
  t.equal(VisaHeader.decode(rWire).header.totalLength, rWire.length)

  // Reject: 26-byte header with H13 bitmap and H14 reject code, followed by the original header.
  const rej = { ...VisaHeader.create('654321', '123456'), reject: { bitmap: 0x8000, code: '0017' } }
  const rejHeader = VisaHeader.encode(rej, header.length + body.length)
  t.equal(rejHeader[0], 26)
  t.equal(rejHeader.subarray(22).toString('hex'), '80000017')
  const split = splitVisaMessage(Buffer.concat([rejHeader, header, body]))
  t.same(split.header.reject, { bitmap: 0x8000, code: '0017' })
  t.equal(split.original?.destinationId, '123456')
  t.ok(split.body.equals(body))
  t.equal(thrown(() => VisaHeader.decode(hex('17000000')))?.code, 'INVALID_HEADER')
})

t.test('pure framing functions', async (t) => {
  const p = Buffer.from('0800')
  t.equal(frame('binary2', p).toString('hex'), '000430383030')
  t.equal(frame('ascii4', p).toString('latin1'), '00040800')
  t.equal(frame('vmlh', p).toString('hex'), '0004000030383030')
  for (const k of ['binary2', 'vmlh', 'ascii4'] as const) t.ok(unframe(k, frame(k, p)).equals(p), k)
  t.equal(thrown(() => unframe('ascii4', Buffer.from('00x40800')))?.code, 'INVALID_FRAME')
  t.equal(thrown(() => unframe('binary2', hex('0005 3038')))?.code, 'INVALID_FRAME')
})
