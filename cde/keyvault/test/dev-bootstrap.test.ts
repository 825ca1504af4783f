import { mkdtemp, rm, stat, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import bootstrap from '../../../tools/dev/src/bootstrap/10-keyvault.js'
import type { BootstrapContext } from '../../../tools/dev/src/bootstrap.js'
import { startHarness, vaultError } from './helpers.js'

t.test('dev bootstrap 10-keyvault: init once, keep dev shares 0600, unseal, dev keys, card-vault policy', async (t) => {
  const h = await startHarness()
  const stateDir = await mkdtemp(join(tmpdir(), 'kvboot-'))
  t.teardown(async () => {
    await h.close()
    await rm(stateDir, { recursive: true, force: true })
  })
  const logs: string[] = []
  const ctx = { urls: { keyvault: h.url }, stateDir, log: (m: string) => logs.push(m), spiffe: h.spiffe, zoneMap: h.zoneMap } as BootstrapContext
  await bootstrap(ctx)
  const sharesPath = join(stateDir, 'keyvault', 'DEV-ONLY-keyvault-unseal-shares.json')
  t.equal((await stat(sharesPath)).mode & 0o777, 0o600, 'dev shares file is 0600')
  const shares = JSON.parse(await readFile(sharesPath, 'utf8')) as { keys: string[]; root_token: string }
  t.equal(shares.keys.length, 5)
  t.equal((await h.client().status()).sealed, false)
  const root = h.client(shares.root_token)
  t.same((await root.list('keys')).data.keys, ['card-data', 'cvk', 'imk-ac', 'imk-cvc3', 'pan-index', 'pin-storage', 'pvk', 'zmk-visa', 'zpk-visa'])
  t.equal((await root.read('keys/zmk-visa')).data.keys['1'].source, 'components', 'ZMK entered by two dev custodians')

  // Restart-like second run: sealed again, bootstrap unseals and changes nothing else.
  await root.write('sys/seal', {})
  await bootstrap(ctx)
  t.equal((await h.client().status()).sealed, false, 'second run unseals from the dev shares')
  t.equal((await root.read('keys/cvk')).data.latest_version, 1, 'keys not recreated')

  // card-vault logs in with its SVID and may use exactly its keys.
  const svid = await h.workload('card-vault').fetchJwtSvid(h.core.settings.self.spiffeId)
  const cv = h.client((await h.client().write('auth/spiffe/login', { jwt: svid.token })).auth.client_token)
  const g = await cv.write('payments/cvv/generate/cvk', { pan: '4123456789012345', expiry: '2912', kind: 'cvv2' })
  t.match(g.data.cvv, /^\d{3}$/)
  const dk = await cv.write('transit/datakey/wrapped/card-data', {})
  t.match(dk.data.ciphertext, /^vault:v1:/)
  t.equal((await vaultError(cv.write('keys/cvk/rotate', {}))).status, 403, 'no key management for card-vault')
  t.ok(logs.some((l) => l.includes('zmk-visa created')))
})
