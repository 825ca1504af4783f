import { cvc3, kcv, tr31Wrap } from '@cardplane/payment-crypto'
import t from 'tap'
import { importByComponents } from './fixtures.js'
import { initAndUnseal, startHarness, vaultError } from './helpers.js'

const KBPK = '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F'
const IMK_CVC3 = '0123456789ABCDEFFEDCBA9876543210'
const PAN = '5123456789012346'

t.test('CVC3, MAC engine and the zone-conformance probe', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const { rootToken } = await initAndUnseal(h)
  const root = h.client(rootToken)
  await importByComponents(root, h.client, 'kbpk', 'kbpk', KBPK, 'aes')
  const block = tr31Wrap({ kbpk: KBPK, key: IMK_CVC3, header: { version: 'D', keyUsage: 'E4', algorithm: 'T', modeOfUse: 'X', exportability: 'N' } })
  const imp = await root.write('keys/imk-cvc3/import', { kbpk: 'kbpk', key_block: block })
  t.equal(imp.data.type, 'imk-cvc3')
  t.equal(imp.data.kcv, kcv(IMK_CVC3, { algorithm: 'tdes' }))

  // CVC3 through the API equals payment-crypto with the same (known) IMK.
  const input = { pan: PAN, psn: '00', un: '00000899', atc: '005E', iv_cvc3: '3A5F' }
  const expected = cvc3({ imk: IMK_CVC3, pan: PAN, psn: '00', un: input.un, atc: input.atc, ivCvc3: input.iv_cvc3 })
  const g = await root.write('payments/cvc3/generate/imk-cvc3', input)
  t.equal(g.data.cvc3, expected)
  t.equal((await root.write('payments/cvc3/verify/imk-cvc3', { ...input, cvc3: expected })).data.valid, true)
  const other = expected === '000' ? '001' : '000'
  t.equal((await root.write('payments/cvc3/verify/imk-cvc3', { ...input, cvc3: other })).data.valid, false)
  t.equal((await root.write('payments/cvv/generate/imk-cvc3', { ...input, kind: 'cvc3' })).data.cvv, expected, 'kind cvc3 on the cvv path')
  t.equal((await root.write('payments/cvv/verify/imk-cvc3', { ...input, kind: 'cvc3', cvv: expected })).data.valid, true)
  t.equal((await vaultError(root.write('payments/cvv/generate/imk-cvc3', { pan: PAN, expiry: '2912', service_code: '101' }))).code, 'key_usage_violation', 'an IMK-CVC3 is not a CVK')

  // MAC: retail MAC (TDES double length) and CMAC (AES), verify detects a changed message.
  await root.write('keys/mac-tdes', { type: 'mac' })
  await root.write('keys/mac-aes', { type: 'mac', algorithm: 'aes', length: 32 })
  for (const key of ['mac-tdes', 'mac-aes']) {
    const data = '0200F23A400108E18000000000000000000016'
    const m = await root.write(`payments/mac/generate/${key}`, { data })
    t.match(m.data.mac, key === 'mac-tdes' ? /^[0-9A-F]{16}$/ : /^[0-9A-F]{32}$/)
    t.equal((await root.write(`payments/mac/verify/${key}`, { data, mac: m.data.mac })).data.valid, true, `${key} verifies`)
    t.equal((await root.write(`payments/mac/verify/${key}`, { data: data.replace(/6$/, '7'), mac: m.data.mac })).data.valid, false, `${key} detects a change`)
  }
  const e = await vaultError(root.write('payments/mac/generate/mac-aes', { data: '00', mac_algorithm: 'retail' }))
  t.same([e.status, e.code], [400, 'invalid_algorithm'])

  // /v1/probe: outside the seal, SPIFFE-authenticated, only the zone map's callers (card-vault).
  const audience = h.core.settings.self.spiffeId
  const cvSvid = await h.workload('card-vault').fetchJwtSvid(audience)
  const ok = await fetch(`${h.url}/v1/probe`, { headers: { authorization: `Bearer ${cvSvid.token}` } })
  t.equal(ok.status, 200)
  t.match(await ok.json(), { service: 'keyvault', caller: { service: 'card-vault' } })
  const procSvid = await h.workload('processor').fetchJwtSvid(audience)
  t.equal((await fetch(`${h.url}/v1/probe`, { headers: { authorization: `Bearer ${procSvid.token}` } })).status, 403, 'group 2 refused')
  t.equal((await fetch(`${h.url}/v1/probe`)).status, 401, 'no SVID')
  await root.write('sys/seal', {})
  t.equal((await fetch(`${h.url}/v1/probe`, { headers: { authorization: `Bearer ${cvSvid.token}` } })).status, 200, 'probe works while sealed')
})
