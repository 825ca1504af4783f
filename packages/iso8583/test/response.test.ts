import t from 'tap'
import { getPath, getSpec, respond, responseMti, setPath } from '../src/index.js'
import { visa0100 } from './fixtures.js'

t.test('0110 from a decoded 0100: copy fields, set DE 39, deep copies', async (t) => {
  const spec = getSpec('visa-base1')
  const req = spec.decode(spec.encode(visa0100()))
  const resp = respond(req, { copy: ['2', '3', '4', '7', '11', '32', '37', '41', '42', '49', '62', '63'], set: { '39': '05' } })
  t.equal(resp.mti, '0110')
  t.equal(getPath(resp, '39'), '05')
  t.equal(getPath(resp, '62.2'), '123456789012345')
  setPath(resp, '62.2', '999999999999999')
  t.equal(getPath(req, '62.2'), '123456789012345', 'request untouched')
  setPath(resp, '63.3', undefined)
  t.same(resp.fields['63'], { '1': '0002' })
  setPath(resp, '126.10', '11 123')
  t.same(resp.fields['126'], { '10': '11 123' })
  t.throws(() => setPath(resp, '39.1', 'x'), TypeError)
  t.equal(getPath(resp, '2.1'), undefined)
  t.ok(spec.encode(resp).length > 0, 'response encodes')
  t.same(['0100', '0120', '0200', '0400', '0420', '0800', '0121'].map(responseMti), ['0110', '0130', '0210', '0410', '0430', '0810', '0130'])
  t.throws(() => responseMti('0110'), RangeError)
})
