// payments/pin/rewrap/<pek>: a stored PIN block moved to the PIN storage key's newest version after a
// rotation, without the clear PIN leaving the key service (not in the answer, the audit log or the logs).
import { decodePinBlock, decryptPinBlock, encodePinBlock, encryptPinBlock, tr31Wrap } from '@cardplane/payment-crypto'
import { createLogger } from '@cardplane/service-kit'
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { importByComponents } from './fixtures.js'
import { initAndUnseal, startHarness, vaultError } from './helpers.js'

const PEK = '7A1C3E5F70819AB2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F607182930'
const KBPK = 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90'
const ZPK = '89B07B35A1B3F47E89B07B35A1B3F47E'
const PAN = '4539912010000004'
const PIN = '730591'

/** The card vault's rights on the PIN storage key (as the dev bootstrap grants them). */
const POLICY = {
  path: {
    'payments/pin/encrypt/pek-test': { capabilities: ['update'] },
    'payments/pin/decrypt/pek-test': { capabilities: ['update'] },
    'payments/pin/rewrap/pek-test': { capabilities: ['update'] },
    'keys/pek-test': { capabilities: ['read'] },
  },
}

t.test('payments/pin/rewrap: a stored block moves to the newest pek version, the PIN stays inside', async (t) => {
  const lines: string[] = []
  const logger = createLogger({ name: 'keyvault', level: 'trace', destination: { write: (s: string) => void lines.push(s) } })
  const h = await startHarness({ logger })
  t.teardown(h.close)
  const { rootToken } = await initAndUnseal(h)
  const root = h.client(rootToken)
  await importByComponents(root, h.client, 'pek-test', 'pek', PEK, 'aes')
  await importByComponents(root, h.client, 'kbpk-test', 'kbpk', KBPK, 'aes')
  await root.write('keys/zpk-test/import', { kbpk: 'kbpk-test', key_block: tr31Wrap({ kbpk: KBPK, key: ZPK, header: { version: 'D', keyUsage: 'P0', algorithm: 'T', modeOfUse: 'B', exportability: 'N' } }) })
  await root.write('keys/cvk-test', { type: 'cvk' })
  await root.addPolicy({ name: 'card-vault', rules: JSON.stringify(POLICY) })
  const svid = await h.workload('card-vault').fetchJwtSvid(h.core.settings.self.spiffeId)
  const cv = h.client((await h.client().write('auth/spiffe/login', { jwt: svid.token })).auth.client_token)

  // A block under v1 (what the card vault stores at PIN set), then the custodian rotates the key.
  const enc = await cv.write('payments/pin/encrypt/pek-test', { pin: PIN, pan: PAN, format: 4 })
  t.equal(enc.data.key_version, 1)
  const v1Block = enc.data.pin_block as string
  t.equal(decodePinBlock({ format: 4, pan: PAN, block: decryptPinBlock({ key: PEK, block: v1Block, format: 4, pan: PAN }) }), PIN, 'v1 block is the PIN under the imported material')
  await root.write('keys/pek-test/rotate', {})
  t.equal((await cv.read('keys/pek-test')).data.latest_version, 2, 'the card vault can read the latest version (metadata only)')

  const r = await cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block, key_version: 1, format: 4, pan: PAN })
  t.same(Object.keys(r.data as object).sort(), ['key_version', 'pin_block'], 'answer: the new block and its version, no PIN')
  t.equal(r.data.key_version, 2, 'under the newest version')
  const v2Block = r.data.pin_block as string
  t.match(v2Block, /^[0-9A-F]{32}$/)
  t.not(v2Block, v1Block)
  t.not(decodeOr(PEK, v2Block), PIN, 'the new block is no longer under v1')
  t.equal((await cv.write('payments/pin/decrypt/pek-test', { pin_block: v2Block, key_version: 2, format: 4, pan: PAN })).data.pin, PIN, 'decrypts to the same PIN under v2')
  t.equal((await cv.write('payments/pin/decrypt/pek-test', { pin_block: v1Block, key_version: 1, format: 4, pan: PAN })).data.pin, PIN, 'the old block still decrypts under v1')
  const again = await cv.write('payments/pin/rewrap/pek-test', { pin_block: v2Block, key_version: 2, format: 4, pan: PAN })
  t.equal(again.data.key_version, 2, 'a block already under the newest version stays there (new random fill)')
  t.equal((await cv.write('payments/pin/decrypt/pek-test', { pin_block: again.data.pin_block, key_version: 2, format: 4, pan: PAN })).data.pin, PIN)

  // Refusals: wrong key type, versions, malformed blocks, policy. No value in any error.
  const blocks = [v1Block, v2Block, again.data.pin_block as string]
  const expect = async (what: string, p: Promise<unknown>, status: number, code: string) => {
    const e = await vaultError(p)
    t.same([e.status, e.code], [status, code], what)
    const text = e.errors.join(' ')
    t.notOk([PAN, PIN, ...blocks].some((v) => text.includes(v)), `${what}: no PAN, PIN or block in the error`)
  }
  const zpkBlock = encryptPinBlock({ key: ZPK, clearBlock: encodePinBlock({ format: 0, pin: PIN, pan: PAN }), format: 0, pan: PAN })
  await expect('a link ZPK is not a PIN storage key', root.write('payments/pin/rewrap/zpk-test', { pin_block: zpkBlock, key_version: 1, format: 0, pan: PAN }), 400, 'key_usage_violation')
  await expect('a CVK neither', root.write('payments/pin/rewrap/cvk-test', { pin_block: v1Block, key_version: 1, format: 4, pan: PAN }), 400, 'key_usage_violation')
  await expect('unknown key', root.write('payments/pin/rewrap/no-such-pek', { pin_block: v1Block, key_version: 1, format: 4, pan: PAN }), 404, 'unknown_key')
  await expect('version the key does not have', cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block, key_version: 3, format: 4, pan: PAN }), 400, 'unknown_key_version')
  await expect('version 0', cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block, key_version: 0, format: 4, pan: PAN }), 400, 'invalid_field')
  await expect('version missing', cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block, format: 4, pan: PAN }), 400, 'missing_field')
  await expect('not hex', cv.write('payments/pin/rewrap/pek-test', { pin_block: 'ZZ' + v1Block.slice(2), key_version: 1, format: 4, pan: PAN }), 400, 'invalid_hex')
  await expect('wrong length for format 4', cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block.slice(0, 16), key_version: 1, format: 4, pan: PAN }), 400, 'invalid_length')
  const garbage = encryptPinBlock({ key: PEK, clearBlock: '3' + 'F'.repeat(31), format: 4, pan: PAN })
  await expect('a block that is not a format 4 PIN block', cv.write('payments/pin/rewrap/pek-test', { pin_block: garbage, key_version: 1, format: 4, pan: PAN }), 400, 'invalid_pin_block')
  await expect('the block under the other version', cv.write('payments/pin/rewrap/pek-test', { pin_block: v2Block, key_version: 1, format: 4, pan: PAN }), 400, 'invalid_pin_block')
  await expect('missing PAN', cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block, key_version: 1, format: 4 }), 400, 'missing_field')
  await root.write('keys/pek-test/config', { min_decryption_version: 2 })
  await expect('version below min_decryption_version', cv.write('payments/pin/rewrap/pek-test', { pin_block: v1Block, key_version: 1, format: 4, pan: PAN }), 400, 'key_version_disallowed')
  await root.addPolicy({ name: 'card-vault', rules: JSON.stringify({ path: { ...POLICY.path, 'payments/pin/rewrap/pek-test': { capabilities: ['deny'] } } }) })
  await expect('not in the policy', cv.write('payments/pin/rewrap/pek-test', { pin_block: v2Block, key_version: 2, format: 4, pan: PAN }), 403, 'permission_denied')

  // Audit: one exchange row per rewrap call, values HMAC-ed; versions and format in clear.
  const rows = (await h.pool.query<{ kind: string; entry: string }>(
    "SELECT kind, entry FROM audit_log WHERE entry LIKE '%payments/pin/rewrap/%' ORDER BY seq",
  )).rows
  t.ok(rows.length >= 14, `rewrap calls audited (${rows.length} rows)`)
  const ok = rows.map((r) => JSON.parse(r.entry) as { request: { data: Record<string, unknown> }; response?: { status?: number; body?: { data?: Record<string, unknown> } } })
  const first = ok[0]!
  t.equal(rows[0]!.kind, 'exchange', 'pure call: one exchange row')
  t.equal(first.request.data.key_version, 1)
  t.equal(first.request.data.format, 4)
  t.match(first.request.data.pin_block, /^hmac-sha256:[0-9a-f]{64}$/, 'request block HMAC-ed')
  t.match(first.request.data.pan, /^hmac-sha256:/, 'PAN HMAC-ed')
  t.match(first.response?.body?.data?.pin_block, /^hmac-sha256:[0-9a-f]{64}$/, 'answer block HMAC-ed')
  t.equal(first.response?.body?.data?.key_version, 2)
  const hashOf = async (v: string) => (await root.write('sys/audit-hash', { input: v })).data.hash as string
  t.equal(first.response?.body?.data?.pin_block, await hashOf(v2Block), 'an auditor holding the new block can find it by sys/audit-hash')
  await new Promise((r2) => setTimeout(r2, 50))
  const everything = [rows.map((r) => r.entry).join('\n'), await readFile(h.auditFile, 'utf8'), lines.join('')]
  const allAudit = (await h.pool.query<{ entry: string }>('SELECT entry FROM audit_log')).rows.map((r) => r.entry).join('\n')
  everything.push(allAudit)
  for (const [i, text] of everything.entries()) {
    const where = ['rewrap audit rows', 'audit file', 'service log', 'whole audit log'][i]
    t.notOk(text.includes(PAN), `${where}: no PAN`)
    t.notOk(text.includes(`"${PIN}"`) || text.includes(`:${PIN}`), `${where}: no PIN`)
    for (const b of [...blocks, garbage, zpkBlock]) t.notOk(text.includes(b), `${where}: no PIN block ${b.slice(0, 4)}…`)
  }
  t.ok(lines.some((l) => l.includes('payments/pin/rewrap/pek-test')), 'the service log did see the rewrap requests (path only)')
})

function decodeOr(key: string, block: string): string | undefined {
  try {
    return decodePinBlock({ format: 4, pan: PAN, block: decryptPinBlock({ key, block, format: 4, pan: PAN }) })
  } catch {
    return undefined
  }
}
