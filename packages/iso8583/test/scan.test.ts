import t from 'tap'
import { getSpec } from '../src/index.js'
import { visa0100 } from './fixtures.js'
import { thrown } from './helpers.js'

t.test('scan reads the MTI and chosen fields only (duplicate detection: 7, 11, 32, 37)', async (t) => {
  for (const name of ['visa-base1', 'iso87-ascii', 'iso87-binary', 'mastercard-cis'] as const) {
    const spec = getSpec(name)
    const full = visa0100()
    // Keep only fields every built-in spec can carry as given.
    const msg = { mti: '0100', fields: { '2': full.fields['2']!, '3': '000000', '7': '1121093015', '11': '123456', '32': '123456', '37': '632509123456', '41': 'TERM0001', '49': '978' } }
    const raw = spec.encode(msg)
    const s = spec.scan(raw, ['7', '11', '32', '37'])
    t.same(s, { mti: '0100', fields: { '7': '1121093015', '11': '123456', '32': '123456', '37': '632509123456' } }, name)
    // Scanning stops after the highest wanted field, so damage after it is not even looked at.
    const damaged = Buffer.concat([raw.subarray(0, raw.length - 2)])
    t.same(spec.scan(damaged, [7, 11]).fields, { '7': '1121093015', '11': '123456' }, `${name}: stops early`)
    t.equal(thrown(() => spec.decode(damaged))?.code, 'TRUNCATED', `${name}: full decode sees the damage`)
  }
})
