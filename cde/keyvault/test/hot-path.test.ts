import { readFile } from 'node:fs/promises'
import t from 'tap'
import { serviceByName } from '@cardplane/zones'
import { cleanRequestId, verifyAuditLines, verifyAuditLog } from '../src/domain/audit-log.js'
import { initAndUnseal, startHarness, vaultError } from './helpers.js'

// What the throughput work changed on the request path: batch encoding of the audit log, per-token
// audit fields computed once, CVK contexts cached per key version. Each keeps its security property.

const PAN = '4123456789012345'
const PANS = ['4123456789012345', '4000000000000002', '5555555555554444', '4111111111111111', '378282246310005', '6011111111111117']

t.test('cleanRequestId: control characters and lone surrogates become U+FFFD, everything else is kept', async (t) => {
  t.equal(cleanRequestId('req-1'), 'req-1')
  t.equal(cleanRequestId('a\u0000b\u001ec\u001fd\u007f'), 'a\ufffdb\ufffdc\ufffdd\ufffd')
  t.equal(cleanRequestId('x\ud800y'), 'x\ufffdy')
  t.equal(cleanRequestId('x\udc00'), 'x\ufffd')
  t.equal(cleanRequestId('pair \ud83d\ude00 "q" \\ é'), 'pair \ud83d\ude00 "q" \\ é', 'surrogate pairs, quotes and backslashes stay')
})

t.test('audit batches: awkward ids and field names in one group commit; the chain and the file copy verify', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const { rootToken } = await initAndUnseal(h)
  await h.client(rootToken).write('keys/cvk-a', { type: 'cvk' })
  await new Promise((r) => setTimeout(r, 20))
  const before = Number((await h.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log')).rows[0]?.n)
  const odd = [
    { id: 'rs\u001eus\u001fnul\u0000', data: { 'k\u001e"\\': 'v\u001f', pan: PAN } },
    { id: 'lone\ud800', data: { ['\ud800']: 1, pan: PAN } },
    { id: 'quote"back\\slash,{}', data: { nested: { deep: ['\u2028', '\n\t'] }, pan: PAN } },
  ]
  // Many plain requests around the odd ones, all in flight together: they share batches.
  const calls = Array.from({ length: 60 }, (_, i) => ({ id: `plain-${i}`, data: { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' } as Record<string, unknown> }))
  calls.splice(10, 0, ...odd)
  const replies = await Promise.all(
    calls.map((c) =>
      h.core.handle({ id: c.id, operation: 'update', path: 'payments/cvv/verify/cvk-a', data: c.data, query: {}, token: rootToken, remoteAddress: '127.0.0.1' }),
    ),
  )
  t.same(
    replies.map((r) => r.status),
    calls.map((c) => (c.id.startsWith('plain') ? 200 : 400)),
    'plain requests answered; odd bodies refused by validation, not by the audit log',
  )
  const stored = (await h.pool.query<{ request_id: string; entry: string }>("SELECT request_id, entry FROM audit_log WHERE request_id NOT LIKE 'plain-%'")).rows
  const ids = new Set(stored.map((r) => r.request_id))
  t.ok(ids.has('rs\ufffdus\ufffdnul\ufffd') && ids.has('lone\ufffd') && ids.has('quote"back\\slash,{}'), 'ids stored cleaned, quotes and backslashes intact')
  t.notOk(stored.some((r) => r.entry.includes(PAN)), 'no PAN in any entry')
  const v = await verifyAuditLog(h.pool)
  t.same([v.ok, v.problems], [true, []], 'chain verifies over the odd rows')
  t.equal(v.rows - before, calls.length, 'one exchange row for every call of the burst')
  await new Promise((r) => setTimeout(r, 50))
  const file = verifyAuditLines(await readFile(h.auditFile, 'utf8'))
  t.same([file.ok, file.rows, file.lastHash], [true, v.rows, v.lastHash], 'JSON-lines copy verifies and ends at the same head')
})

t.test('token audit fields are cached per token and salt; revocation and expiry still apply at once', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const { rootToken, keys } = await initAndUnseal(h)
  const root = h.client(rootToken)
  await root.write('keys/cvk-a', { type: 'cvk' })
  const child = (await root.write('auth/token/create', { policies: ['root'] })) as { auth: { client_token: string } }
  const c = h.client(child.auth.client_token)
  await c.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' })
  await c.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' })
  const tokenHash = (await root.write('sys/audit-hash', { input: child.auth.client_token })).data.hash as string
  const rows = (await h.pool.query<{ entry: string }>("SELECT entry FROM audit_log WHERE kind = 'exchange' AND entry LIKE '%payments/cvv/verify%'")).rows
  t.equal(rows.length, 2)
  for (const r of rows) t.equal((JSON.parse(r.entry) as { request: { client_token: string } }).request.client_token, tokenHash, 'cached token HMAC is the salted HMAC of the token')

  // Seal and unseal: caches dropped, the same salt gives the same HMACs.
  h.core.seal.sealNow()
  for (const k of keys.slice(0, 3)) await h.client().unseal({ key: k })
  await c.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' })
  t.equal((await root.write('sys/audit-hash', { input: child.auth.client_token })).data.hash, tokenHash)

  await c.write('auth/token/revoke-self', {})
  t.equal((await vaultError(c.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' }))).status, 403, 'revoked token refused at once')
  await root.addPolicy({ name: 'card-vault', rules: JSON.stringify({ path: { 'payments/cvv/verify/*': { capabilities: ['update'] } } }) })
  h.core.settings.tokenTtlSec = 1
  const svid = await h.workload('card-vault').fetchJwtSvid(serviceByName(h.zoneMap, 'keyvault').spiffeId)
  const s = h.client(String((await h.client().write('auth/spiffe/login', { jwt: svid.token })).auth.client_token))
  await s.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' })
  await new Promise((r) => setTimeout(r, 2100))
  t.equal((await vaultError(s.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' }))).code, 'token_expired', 'expired token refused although its audit fields are cached')
})

t.test('CVK contexts follow the key: rotation, min version, seal, delete and re-create', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const { rootToken, keys } = await initAndUnseal(h)
  const root = h.client(rootToken)
  await root.write('keys/cvk-a', { type: 'cvk' })
  const gen = async (pan: string, version?: number) =>
    (await root.write('payments/cvv/generate/cvk-a', { pan, expiry: '2912', kind: 'cvv2', ...(version ? { key_version: version } : {}) })).data as { cvv: string; key_version: number }
  const ver = async (pan: string, cvv: string, version?: number) =>
    (await root.write('payments/cvv/verify/cvk-a', { pan, expiry: '2912', kind: 'cvv2', cvv, ...(version ? { key_version: version } : {}) })).data as { valid: boolean; key_version: number }

  const v1 = await Promise.all(PANS.map((p) => gen(p)))
  for (const [i, p] of PANS.entries()) t.equal((await ver(p, v1[i]!.cvv)).valid, true)
  await root.write('keys/cvk-a/rotate', {})
  const v2 = await Promise.all(PANS.map((p) => gen(p)))
  t.ok(v2.every((g) => g.key_version === 2), 'generate uses the new version')
  t.ok(v2.some((g, i) => g.cvv !== v1[i]!.cvv), 'new version, new values (not a stale context)')
  for (const [i, p] of PANS.entries()) {
    t.equal((await ver(p, v1[i]!.cvv, 1)).valid, true, 'version 1 still verifies')
    t.equal((await ver(p, v2[i]!.cvv, 2)).valid, true)
  }
  await root.write('keys/cvk-a/config', { min_decryption_version: 2 })
  t.equal((await vaultError(ver(PAN, v1[0]!.cvv, 1))).code, 'key_version_disallowed', 'min_decryption_version applies to cached contexts too')

  h.core.seal.sealNow()
  t.equal((await vaultError(ver(PAN, v2[0]!.cvv))).status, 503, 'sealed: no context serves')
  for (const k of keys.slice(0, 3)) await h.client().unseal({ key: k })
  t.equal((await ver(PANS[0]!, v2[0]!.cvv, 2)).valid, true, 'rebuilt after unseal')

  // Delete and re-create under the same name: new material, so the old values no longer verify.
  await root.write('keys/cvk-a/config', { deletion_allowed: true })
  await root.delete('keys/cvk-a')
  await root.write('keys/cvk-a', { type: 'cvk' })
  const fresh = await Promise.all(PANS.map((p) => gen(p)))
  t.ok(fresh.every((g) => g.key_version === 1))
  t.ok(fresh.some((g, i) => g.cvv !== v1[i]!.cvv), 'a re-created key does not reuse the deleted key version 1 context')

})

t.test('batch_input on payments/cvv/verify: per-item results and errors, one exchange audit row, whole-request refusals', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const { rootToken } = await initAndUnseal(h)
  const root = h.client(rootToken)
  await root.write('keys/cvk-a', { type: 'cvk' })
  const good = (await root.write('payments/cvv/generate/cvk-a', { pan: PAN, expiry: '2912', kind: 'cvv2' })).data.cvv as string
  const wrong = String((Number(good) + 1) % 1000).padStart(3, '0')
  const track = (await root.write('payments/cvv/generate/cvk-a', { pan: PAN, expiry: '2912', service_code: '101' })).data.cvv as string
  await new Promise((r) => setTimeout(r, 20))
  const rowsBefore = Number((await h.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log')).rows[0]?.n)

  const r = await root.write('payments/cvv/verify/cvk-a', {
    batch_input: [
      { pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good },
      { pan: PAN, expiry: '2912', kind: 'cvv2', cvv: wrong },
      { pan: '41234', expiry: '2912', kind: 'cvv2', cvv: good },
      { pan: PAN, expiry: '2912', service_code: '101', cvv: track },
      { pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good, key_version: 9 },
    ],
  })
  const results = r.data.batch_results as { valid?: boolean; key_version?: number; error?: string; code?: string }[]
  t.same(
    results.map((x) => x.valid ?? x.code),
    [true, false, 'invalid_length', true, 'unknown_key_version'],
    'results in order; a bad item is its own error, the others are answered',
  )
  t.notOk(JSON.stringify(results).includes(PAN), 'no PAN in the answer')

  const rows = (await h.pool.query<{ kind: string; entry: string }>('SELECT kind, entry FROM audit_log WHERE seq > $1 ORDER BY seq', [rowsBefore])).rows
  t.equal(rows.length, 1, 'one exchange row for the whole batch')
  type BatchEntry = {
    type: string
    request: { id: string; batch_size: number; data?: { batch_input: Record<string, string>[] } }
    response?: { status: number; item_status: number[]; item_error: (string | null)[]; body: { batch_results: { valid?: boolean; code?: string }[] } }
  }
  const row = rows[0]
  const e = JSON.parse(row?.entry ?? '{}') as BatchEntry
  t.same([row?.kind, e.type], ['exchange', 'exchange'])
  t.equal(e.request.batch_size, 5)
  t.equal(e.request.data?.batch_input.length, 5, 'every item input is recorded, in order')
  t.ok(e.request.data?.batch_input.every((x) => /^hmac-sha256:/.test(x.pan ?? '') && /^hmac-sha256:/.test(x.cvv ?? '')), 'item values HMAC-ed like single requests')
  t.equal(e.request.data?.batch_input[3]?.service_code?.startsWith('hmac-sha256:'), true)
  t.same(e.response?.item_status, [200, 200, 400, 200, 400], 'each item status recorded')
  t.same(e.response?.item_error, [null, null, 'invalid_length', null, 'unknown_key_version'])
  t.same(e.response?.body.batch_results.map((x) => x.valid ?? x.code), [true, false, 'invalid_length', true, 'unknown_key_version'], 'each item result recorded')
  t.notOk(rows.some((x) => x.entry.includes(PAN) || x.entry.includes(`"${good}"`)), 'no PAN or CVV in clear')
  t.equal((await verifyAuditLog(h.pool)).ok, true)

  // Whole-request refusals: malformed batch, mixed fields, too many items, ACL, sealed, audit failure.
  t.equal((await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: [] }))).code, 'invalid_batch')
  t.equal((await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: 'x' }))).code, 'invalid_batch')
  t.equal((await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: [1] }))).code, 'invalid_batch')
  t.equal((await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: [{ pan: PAN }], pan: PAN }))).code, 'invalid_batch')
  const many = Array.from({ length: 257 }, () => ({ pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good }))
  t.equal((await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: many }))).code, 'invalid_batch')
  t.equal((await vaultError(root.write('payments/cvv/generate/cvk-a', { batch_input: [{ pan: PAN, expiry: '2912', kind: 'cvv2' }] }))).status, 400, 'only batchable routes take batch_input')
  const noRights = (await root.write('auth/token/create', { policies: ['default'] })) as { auth: { client_token: string } }
  t.equal((await vaultError(h.client(noRights.auth.client_token).write('payments/cvv/verify/cvk-a', { batch_input: [{ pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good }] }))).status, 403)
  const unknown = await root.write('payments/cvv/verify/no-such-key', { batch_input: [{ pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good }] })
  t.equal((unknown.data.batch_results as { code: string }[])[0]?.code, 'unknown_key', 'an unknown key is each item\'s error')
  await h.pool.query('ALTER TABLE audit_log ADD CONSTRAINT audit_block CHECK (seq < 0) NOT VALID')
  const failed = await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: [{ pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good }] }))
  t.same([failed.status, failed.code], [500, 'audit_failed'], 'no answer without the audit rows')
  await h.pool.query('ALTER TABLE audit_log DROP CONSTRAINT audit_block')
  h.core.seal.sealNow()
  t.equal((await vaultError(root.write('payments/cvv/verify/cvk-a', { batch_input: [{ pan: PAN, expiry: '2912', kind: 'cvv2', cvv: good }] }))).status, 503)
})
