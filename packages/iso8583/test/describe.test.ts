import t from 'tap'
import { describe, getSpec, maskPan } from '../src/index.js'
import { visa0100 } from './fixtures.js'

t.test('masked describe hides PAN, track 2, DE 55 and CVV2 subfields by default', async (t) => {
  const spec = getSpec('visa-base1')
  const msg = visa0100()
  msg.fields['52'] = Buffer.from('0123456789ABCDEF', 'hex')
  msg.fields['126'] = { '10': '11 123' }
  const out = describe(spec, msg, { tlv: true })
  t.match(out, /476173\*{6}0010/, 'PAN as first 6 / last 4')
  t.notMatch(out, /4761739001010010/, 'no full PAN anywhere')
  t.notMatch(out, /D2812201/, 'no track 2')
  t.notMatch(out, /0123456789ABCDEF/, 'no PIN block')
  t.notMatch(out, /11 123/, 'no CVV2 request data')
  t.notMatch(out, /1D2A3B4C5D6E7F80/i, 'no cryptogram')
  t.match(out, /9F26 \[8 bytes\]/, 'TLV tags listed with lengths only')
  t.match(out, /Transaction identifier.*"123456789012345"/, '62.2 shown')
  t.match(out, /Card acceptor terminal identification.*"TERM0001"/)
  const clear = describe(spec, msg, { unmasked: true })
  t.match(clear, /4761739001010010/, 'unmasked only on request')
})

t.test('maskPan never shows more than first 6 and last 4', async (t) => {
  t.equal(maskPan('4761739001010010'), '476173******0010')
  t.equal(maskPan('4761739001010010123'), '476173*********0123')
  t.equal(maskPan('123456789'), '*****6789')
  t.equal(maskPan('1234'), '****')
})
