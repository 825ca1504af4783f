import { encodePinBlock, encryptPinBlock, kcv, tr31Wrap } from '@cardplane/payment-crypto'
import t from 'tap'
import { CARD_VAULT_POLICY, importByComponents } from './fixtures.js'
import { initAndUnseal, startHarness, vaultError } from './helpers.js'

const KBPK = '00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF'
const ZPK = '0123456789ABCDEFFEDCBA9876543210'
const PAN = '4123456789012345'

t.test('bad input: typed errors, right statuses, nothing half-written', async (t) => {
  const h = await startHarness({ tokenTtlSec: 60 })
  t.teardown(h.close)
  const { rootToken, keys } = await initAndUnseal(h)
  const root = h.client(rootToken)
  const anon = h.client()
  await root.addPolicy({ name: 'card-vault', rules: JSON.stringify(CARD_VAULT_POLICY) })
  await root.write('keys/cvk-test', { type: 'cvk' })
  await root.write('keys/pvk-test', { type: 'pvk' })
  await importByComponents(root, h.client, 'kbpk-test', 'kbpk', KBPK, 'aes')
  await root.write('keys/zpk-test/import', { kbpk: 'kbpk-test', key_block: tr31Wrap({ kbpk: KBPK, key: ZPK, header: { version: 'D', keyUsage: 'P0', algorithm: 'T', modeOfUse: 'B', exportability: 'N' } }) })
  await root.write('transit/keys/card-data', {})
  const svid = await h.workload('card-vault').fetchJwtSvid(h.core.settings.self.spiffeId)
  const cv = h.client((await anon.write('auth/spiffe/login', { jwt: svid.token })).auth.client_token)
  const block = encryptPinBlock({ key: ZPK, clearBlock: encodePinBlock({ format: 0, pin: '1234', pan: PAN }), format: 0, pan: PAN })

  const expect = async (name: string, p: Promise<unknown>, status: number, code: string) => {
    const e = await vaultError(p)
    t.same([e.status, e.code], [status, code], name)
    t.notOk(e.errors.join(' ').includes(PAN), `${name}: no PAN in the error`)
  }

  await expect('malformed hex', cv.write('payments/pin/pvv/verify/pvk-test', { zpk: 'zpk-test', pin_block: 'ZZ' + block.slice(2), format: 0, pan: PAN, pvki: '1', pvv: '1234' }), 400, 'invalid_hex')
  await expect('PIN block of the wrong length', cv.write('payments/pin/pvv/verify/pvk-test', { zpk: 'zpk-test', pin_block: block + '00', format: 0, pan: PAN, pvki: '1', pvv: '1234' }), 400, 'invalid_length')
  await expect('PAN too short', cv.write('payments/cvv/verify/cvk-test', { pan: '41234', expiry: '8701', service_code: '101', cvv: '123' }), 400, 'invalid_length')
  await expect('expiry not digits', cv.write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '87A1', service_code: '101', cvv: '123' }), 400, 'invalid_digits')
  await expect('missing field', cv.write('payments/cvv/verify/cvk-test', { pan: PAN, expiry: '8701', cvv: '123' }), 400, 'missing_field')
  await expect('CVK as the PIN key of a PIN block', cv.write('payments/pin/pvv/verify/pvk-test', { zpk: 'cvk-test', pin_block: block, format: 0, pan: PAN, pvki: '1', pvv: '1234' }), 400, 'key_usage_violation')
  await expect('ZPK computing a CVV', root.write('payments/cvv/generate/zpk-test', { pan: PAN, expiry: '8701', service_code: '101' }), 400, 'key_usage_violation')
  await expect('CVK in transit encrypt', root.write('transit/encrypt/cvk-test', { plaintext: 'aGVsbG8=' }), 400, 'key_usage_violation')
  await expect('unknown key', root.write('payments/cvv/generate/no-such-key', { pan: PAN, expiry: '8701', service_code: '101' }), 404, 'unknown_key')
  await expect('malformed ciphertext', cv.write('transit/decrypt/card-data', { ciphertext: 'vault:v1:not base64!' }), 400, 'invalid_ciphertext')
  await expect('policy violation: card-vault exporting a key', cv.write('keys/cvk-test/export', { kbpk: 'kbpk-test' }), 403, 'permission_denied')
  await expect('policy violation: key not in the policy', cv.write('payments/cvv/generate/other-cvk', { pan: PAN, expiry: '8701', service_code: '101' }), 403, 'permission_denied')
  await expect('no token', anon.read('keys/cvk-test'), 403, 'missing_token')
  await expect('unknown token', h.client('hvs.bogus').read('keys/cvk-test'), 403, 'invalid_token')

  // Login: wrong audience; a workload the zone map does not allow (processor, group 2) even with a role.
  const wrongAud = await h.workload('card-vault').fetchJwtSvid('spiffe://cardplane.dev/g3/card-vault')
  await expect('JWT-SVID for another audience', anon.write('auth/spiffe/login', { jwt: wrongAud.token }), 403, 'jwt_aud_mismatch')
  const proc = await h.workload('processor').fetchJwtSvid(h.core.settings.self.spiffeId)
  await expect('group-2 caller refused by the zone map', anon.write('auth/spiffe/login', { jwt: proc.token }), 403, 'caller_not_allowed')

  // TR-31 with a bad MAC: refused, and no key is created.
  const good = tr31Wrap({ kbpk: KBPK, key: ZPK, header: { version: 'D', keyUsage: 'P0', algorithm: 'T', modeOfUse: 'B', exportability: 'N' } })
  const last = good.slice(-1) === '0' ? '1' : '0'
  await expect('TR-31 with a bad MAC', root.write('keys/zpk-2/import', { kbpk: 'kbpk-test', key_block: good.slice(0, -1) + last }), 400, 'tr31_mac_mismatch')
  await expect('nothing written after a bad TR-31 import', root.read('keys/zpk-2'), 404, 'unknown_key')
  await expect('TR-31 usage vs requested type', root.write('keys/zpk-3/import', { kbpk: 'kbpk-test', key_block: good, type: 'cvk' }), 400, 'key_usage_violation')

  // Dual control: bad KCV, same custodian twice, a token bound to another custodian.
  await root.write('keys/cvk-2/ceremony', { type: 'cvk', components: 2 })
  const c1 = '0123456789ABCDEF0123456789ABCDEF'
  const alice = (await root.write('auth/token/create', { policies: ['root'], meta: { custodian: 'alice' } })).auth.client_token
  const bob = (await root.write('auth/token/create', { policies: ['root'], meta: { custodian: 'bob' } })).auth.client_token
  await expect('component with a wrong KCV', h.client(alice).write('keys/cvk-2/ceremony/component', { custodian: 'alice', component: c1, kcv: '000000' }), 400, 'kcv_mismatch')
  t.equal((await root.read('keys/cvk-2/ceremony')).data.components_entered, 0, 'nothing kept after a bad KCV')
  await h.client(alice).write('keys/cvk-2/ceremony/component', { custodian: 'alice', component: c1, kcv: kcv(c1, { algorithm: 'tdes' }) })
  await expect('same custodian twice', h.client(alice).write('keys/cvk-2/ceremony/component', { custodian: 'alice', component: c1, kcv: kcv(c1, { algorithm: 'tdes' }) }), 409, 'duplicate_custodian')
  await expect('same token as another custodian', h.client(alice).write('keys/cvk-2/ceremony/component', { custodian: 'carol', component: c1, kcv: kcv(c1, { algorithm: 'tdes' }) }), 400, 'custodian_mismatch')
  await expect('component of the wrong length', h.client(bob).write('keys/cvk-2/ceremony/component', { custodian: 'bob', component: c1 + '00000000', kcv: '000000' }), 400, 'invalid_length')
  t.equal((await root.read('keys/cvk-2/ceremony')).data.components_entered, 1)
  await expect('key not created before the last component', root.read('keys/cvk-2'), 404, 'unknown_key')

  // Expired token.
  h.core.settings.tokenTtlSec = 1
  const shortLived = h.client((await anon.write('auth/spiffe/login', { jwt: svid.token })).auth.client_token)
  await new Promise((r) => setTimeout(r, 2100))
  await expect('expired token', shortLived.write('payments/cvv/generate/cvk-test', { pan: PAN, expiry: '8701', service_code: '101' }), 403, 'token_expired')

  // Unseal with a corrupted share: refused, progress reset, still sealed.
  await root.write('sys/seal', {})
  await expect('sealed', cv.write('payments/cvv/generate/cvk-test', { pan: PAN, expiry: '8701', service_code: '101' }), 503, 'sealed')
  const k0 = keys[0] ?? ''
  const corrupted = (k0.slice(0, 2) === '00' ? '01' : '00') + k0.slice(2)
  await anon.unseal({ key: corrupted })
  await anon.unseal({ key: keys[1] })
  await expect('wrong shares', anon.unseal({ key: keys[2] }), 400, 'invalid_unseal_key')
  const st = await anon.status()
  t.same([st.sealed, st.progress], [true, 0])
  await expect('malformed share', anon.unseal({ key: 'zz-not-a-share' }), 400, 'invalid_hex')
  await expect('already initialised', anon.init({ secret_shares: 5, secret_threshold: 3 }), 409, 'already_initialized')
})
