import { encodePinBlock, encryptPinBlock, generateArqcProfile, kcv, pvv as pvvOf, tr31Wrap, decryptPinBlock, decodePinBlock } from '@cardplane/payment-crypto'
import t from 'tap'
import { CARD_VAULT_POLICY, importByComponents } from './fixtures.js'
import { initAndUnseal, raw, startHarness, vaultError } from './helpers.js'

const CVK = '0123456789ABCDEFFEDCBA9876543210'
const KBPK = 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90'
const ZPK = '89B07B35A1B3F47E89B07B35A1B3F47E'
const IMK = '9E15204313F7318ACB79B90BD986AD29'
const PAN = '4123456789012345'

t.test('node-vault against a running key service on PostgreSQL', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const anon = h.client()

  t.equal((await raw(h.url, 'GET', 'sys/health')).status, 501, 'health: 501 before init')
  t.same(await anon.initialized(), { initialized: false })
  const init = (await anon.init({ secret_shares: 5, secret_threshold: 3 })) as { keys: string[]; root_token: string }
  t.equal(init.keys.length, 5, 'five shares')
  t.match(init.root_token, /^hvs\./)
  t.equal((await raw(h.url, 'GET', 'sys/health')).status, 503, 'health: 503 sealed')
  const sealed = await raw(h.url, 'POST', 'transit/encrypt/x', { plaintext: 'AA==' }, init.root_token)
  t.equal(sealed.status, 503, 'data path while sealed: 503')

  let st = await anon.unseal({ key: init.keys[0] })
  t.equal(st.progress, 1)
  st = await anon.unseal({ key: init.keys[3] })
  t.equal(st.sealed, true, 'still sealed with 2 of 3')
  st = await anon.unseal({ key: init.keys[4] })
  t.equal(st.sealed, false, 'unsealed with shares 1, 4, 5')
  t.equal((await raw(h.url, 'GET', 'sys/health')).status, 200)

  const root = h.client(init.root_token)
  const self = await root.tokenLookupSelf()
  t.same(self.data.policies, ['root'])
  const mounts = await root.mounts()
  t.ok(mounts.data['transit/'] && mounts.data['payments/'], 'mounts listed')

  await root.addPolicy({ name: 'card-vault', rules: JSON.stringify(CARD_VAULT_POLICY) })
  t.ok((await root.getPolicy({ name: 'card-vault' })).data.rules.includes('payments/cvv'))

  // Keys: CVK by dual-control components (published CVV vector), KBPK by components, ZPK and IMK by TR-31.
  const cvkImport = await importByComponents(root, h.client, 'cvk-test', 'cvk', CVK)
  t.equal(cvkImport.combined_kcv, kcv(CVK, { algorithm: 'tdes' }), 'combined KCV shown')
  await importByComponents(root, h.client, 'kbpk-test', 'kbpk', KBPK, 'aes')
  const zpkBlock = tr31Wrap({ kbpk: KBPK, key: ZPK, header: { version: 'D', keyUsage: 'P0', algorithm: 'T', modeOfUse: 'B', exportability: 'N' } })
  const zpkImp = await root.write('keys/zpk-test/import', { kbpk: 'kbpk-test', key_block: zpkBlock })
  t.equal(zpkImp.data.type, 'zpk')
  t.equal(zpkImp.data.kcv, kcv(ZPK, { algorithm: 'tdes' }))
  const imkBlock = tr31Wrap({ kbpk: KBPK, key: IMK, header: { version: 'D', keyUsage: 'E0', algorithm: 'T', modeOfUse: 'X', exportability: 'N' } })
  await root.write('keys/imk-test/import', { kbpk: 'kbpk-test', key_block: imkBlock })
  await root.write('keys/pvk-test', { type: 'pvk' })
  await root.write('transit/keys/card-data', {})
  await root.write('transit/keys/pan-index', { type: 'hmac' })
  const listed = await root.list('keys')
  t.same(listed.data.keys, ['card-data', 'cvk-test', 'imk-test', 'kbpk-test', 'pan-index', 'pvk-test', 'zpk-test'])
  const meta = await root.read('keys/cvk-test')
  t.notOk(JSON.stringify(meta).includes(CVK), 'metadata never carries key material')

  // Login as card-vault with its JWT-SVID from the dev Workload API.
  const svid = await h.workload('card-vault').fetchJwtSvid(h.core.settings.self.spiffeId)
  const login = await anon.write('auth/spiffe/login', { jwt: svid.token })
  t.same(login.auth.policies, ['card-vault'])
  t.equal(login.auth.lease_duration, 900)
  const cv = h.client(login.auth.client_token)

  // CVV / CVV2 / iCVV.
  const g = await cv.write('payments/cvv/generate/cvk-test', { pan: PAN, expiry: '8701', service_code: '101' })
  t.equal(g.data.cvv, '561', 'published CVV vector through the API')
  t.same((await cv.write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '8701', service_code: '101', cvv: '561' })).data.valid, true)
  t.same((await cv.write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '8701', service_code: '101', cvv: '562' })).data.valid, false)
  const cvv2 = await cv.write('payments/cvv/generate/cvk-test', { pan: PAN, expiry: '8701', kind: 'cvv2' })
  t.match(cvv2.data.cvv, /^\d{3}$/)
  t.same((await cv.write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '8701', kind: 'cvv2', cvv: cvv2.data.cvv })).data.valid, true)

  // PIN: translate ZPK→ZPK (format 0 → 3) and PVV generate/verify from a PIN block.
  const block0 = encryptPinBlock({ key: ZPK, clearBlock: encodePinBlock({ format: 0, pin: '1234', pan: PAN }), format: 0, pan: PAN })
  const tr = await cv.write('payments/pin/translate', { source_key: 'zpk-test', destination_key: 'zpk-test', pin_block: block0, pan: PAN, source_format: 0, destination_format: 3 })
  const pin = decodePinBlock({ format: 3, block: decryptPinBlock({ key: ZPK, block: tr.data.pin_block, format: 3, pan: PAN }), pan: PAN })
  t.equal(pin, '1234', 'translated block carries the same PIN')
  const gen = await cv.write('payments/pin/pvv/generate/pvk-test', { zpk: 'zpk-test', pin_block: block0, format: 0, pan: PAN, pvki: '1' })
  t.match(gen.data.pvv, /^\d{4}$/)
  t.same((await cv.write('payments/pin/pvv/verify/pvk-test', { zpk: 'zpk-test', pin_block: block0, format: 0, pan: PAN, pvki: '1', pvv: gen.data.pvv })).data.valid, true)
  const wrongPin = encryptPinBlock({ key: ZPK, clearBlock: encodePinBlock({ format: 0, pin: '9999', pan: PAN }), format: 0, pan: PAN })
  t.same((await cv.write('payments/pin/pvv/verify/pvk-test', { zpk: 'zpk-test', pin_block: wrongPin, format: 0, pan: PAN, pvki: '1', pvv: gen.data.pvv })).data.valid, false)
  const off = await cv.write('payments/pin/ibm3624/generate/pvk-test', { zpk: 'zpk-test', pin_block: block0, format: 0, pan: PAN })
  t.same((await cv.write('payments/pin/ibm3624/verify/pvk-test', { zpk: 'zpk-test', pin_block: block0, format: 0, pan: PAN, offset: off.data.offset })).data.valid, true)
  const dec = await vaultError(cv.write('payments/pin/ibm3624/verify/pvk-test', { zpk: 'zpk-test', pin_block: block0, format: 0, pan: PAN, offset: off.data.offset, decimalization_table: '0123456789012345' }))
  t.same([dec.status, dec.code], [400, 'decimalization_table_not_allowed'])

  // ARQC (Visa CVN 18) with ARPC method 2.
  const emv = { profile: 'visa-cvn18' as const, imk: IMK, pan: PAN, psn: '00', atc: '0001', cdolData: '000000001000000000000000084000000000000840230101001234567800' }
  const arqc = generateArqcProfile(emv)
  const av = await cv.write('payments/emv/arqc/verify/imk-test', { profile: 'visa-cvn18', pan: PAN, psn: '00', atc: '0001', cdol_data: emv.cdolData, arqc, csu: '00820000' })
  t.equal(av.data.valid, true, 'ARQC verifies')
  t.match(av.data.arpc, /^[0-9A-F]{8}$/, 'ARPC returned')
  const bad = await cv.write('payments/emv/arqc/verify/imk-test', { profile: 'visa-cvn18', pan: PAN, atc: '0002', cdol_data: emv.cdolData, arqc, csu: '00820000' })
  t.same([bad.data.valid, bad.data.arpc], [false, null])

  // Transit: datakey, encrypt/decrypt, rotation, rewrap, min_decryption_version.
  const dk = await cv.write('transit/datakey/plaintext/card-data', {})
  t.equal(Buffer.from(dk.data.plaintext, 'base64').length, 32)
  t.match(dk.data.ciphertext, /^vault:v1:/)
  t.equal((await cv.write('transit/decrypt/card-data', { ciphertext: dk.data.ciphertext })).data.plaintext, dk.data.plaintext)
  const enc = await cv.encryptData({ name: 'card-data', plaintext: Buffer.from('hello').toString('base64') })
  t.match(enc.data.ciphertext, /^vault:v1:/)
  await root.write('transit/keys/card-data/rotate', {})
  const rw = await cv.rewrapData({ name: 'card-data', ciphertext: enc.data.ciphertext })
  t.match(rw.data.ciphertext, /^vault:v2:/, 'rewrap moves to the new version')
  t.equal(Buffer.from((await cv.decryptData({ name: 'card-data', ciphertext: rw.data.ciphertext })).data.plaintext, 'base64').toString(), 'hello')
  await root.write('transit/keys/card-data/config', { min_decryption_version: 2 })
  const old = await vaultError(cv.decryptData({ name: 'card-data', ciphertext: enc.data.ciphertext }))
  t.same([old.status, old.code], [400, 'key_version_disallowed'], 'v1 ciphertext refused after min_decryption_version=2')
  const h1 = await cv.write('transit/hmac/pan-index', { input: Buffer.from(PAN).toString('base64') })
  t.same((await cv.write('transit/verify/pan-index', { input: Buffer.from(PAN).toString('base64'), hmac: h1.data.hmac })).data.valid, true)

  // Export only as TR-31 under a KBPK; the block unwraps to the same KCV.
  const ex = await root.write('keys/cvk-test/export', { kbpk: 'kbpk-test' })
  t.match(ex.data.key_block, /^D/)
  t.equal(ex.data.kcv, kcv(CVK, { algorithm: 'tdes' }))

  // Seal: everything behind the barrier answers 503; unseal again, keys are still there.
  await root.write('sys/seal', {})
  t.equal((await vaultError(cv.write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '8701', service_code: '101', cvv: '561' }))).status, 503)
  for (const k of init.keys.slice(2, 5)) await anon.unseal({ key: k })
  const again = await h.client(login.auth.client_token).write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '8701', service_code: '101', cvv: '561' })
  t.equal(again.data.valid, true, 'token and keys survive seal/unseal (persisted under the barrier)')

  // Barrier rotation: new writes use term 2, old entries still readable.
  await root.write('sys/rotate', {})
  t.equal((await root.read('sys/key-status')).data.term, 2)
  await root.write('keys/after-rotate', { type: 'cvk' })
  await root.write('sys/seal', {})
  for (const k of init.keys.slice(0, 3)) await anon.unseal({ key: k })
  t.ok((await root.read('keys/after-rotate')).data.keys['1'], 'entry written under term 2 readable after unseal')
  t.ok((await root.read('keys/cvk-test')).data.keys['1'], 'entry written under term 1 still readable')

  // Revoke-self.
  await cv.tokenRevokeSelf()
  t.equal((await vaultError(cv.tokenLookupSelf())).status, 403)
})
