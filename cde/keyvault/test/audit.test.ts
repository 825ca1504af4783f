import { readFile } from 'node:fs/promises'
import pg from 'pg'
import t from 'tap'
import { verifyAuditLines, verifyAuditLog } from '../src/domain/audit-log.js'
import { initAndUnseal, startHarness, vaultError } from './helpers.js'

const PAN = '4123456789012345'

t.test('audit log: every request and response, HMAC-ed values, hash chain, append-only, fail-closed', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const { rootToken } = await initAndUnseal(h)
  const root = h.client(rootToken)
  await root.write('keys/cvk-a', { type: 'cvk' })
  const g = await root.write('payments/cvv/generate/cvk-a', { pan: PAN, expiry: '2912', service_code: '101' })
  await root.write('payments/cvv/verify/cvk-a', { pan: PAN, expiry: '2912', service_code: '101', cvv: g.data.cvv })

  const count = async () => Number((await h.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log')).rows[0]?.n)
  // init + 3 unseals + create: a request and a response row each (10); generate and verify only
  // compute: one exchange row each (2).
  t.equal(await count(), 12, 'request and response rows per state-changing call, one exchange row per pure call')
  const kinds = (await h.pool.query<{ kind: string }>('SELECT kind FROM audit_log ORDER BY seq')).rows.map((r) => r.kind)
  t.same(kinds.slice(-2), ['exchange', 'exchange'])
  t.same(kinds.slice(0, 10), Array.from({ length: 10 }, (_, i) => (i % 2 ? 'response' : 'request')))
  const rows = (await h.pool.query<{ entry: string; kind: string }>('SELECT entry, kind FROM audit_log ORDER BY seq')).rows
  const all = rows.map((r) => r.entry).join('\n')
  t.notOk(all.includes(PAN), 'no PAN in the audit log')
  t.notOk(all.includes(`"${g.data.cvv}"`), 'no CVV in clear')
  t.notOk(all.includes(rootToken), 'no token in clear')
  const panHash = (await root.write('sys/audit-hash', { input: PAN })).data.hash as string
  t.match(panHash, /^hmac-sha256:[0-9a-f]{64}$/)
  t.ok(all.includes(panHash), 'the PAN appears only as its salted HMAC, which sys/audit-hash reproduces')
  t.ok(all.includes('redacted:sealed'), 'unseal shares (sent while sealed, no salt yet) are never logged')

  let v = await verifyAuditLog(h.pool)
  t.same([v.ok, v.problems], [true, []], 'chain verifies')

  // The JSON-lines copy matches the table's head.
  await new Promise((r) => setTimeout(r, 50))
  const lines = (await readFile(h.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string })
  t.equal(lines.length, v.rows)
  const fileCheck = verifyAuditLines(await readFile(h.auditFile, 'utf8'))
  t.same([fileCheck.ok, fileCheck.lastHash], [true, v.lastHash], 'the JSON-lines copy verifies on its own and ends at the same head')
  const forged = (await readFile(h.auditFile, 'utf8')).replace('"operation":"update"', '"operation":"read"')
  t.equal(verifyAuditLines(forged).ok, false, 'an edited line is detected')
  t.equal(lines[lines.length - 1]?.hash, v.lastHash)

  // Append-only: the trigger refuses UPDATE, DELETE and TRUNCATE for the role the service uses.
  await t.rejects(h.pool.query("UPDATE audit_log SET entry = '{}' WHERE seq = 1"), /append-only/)
  await t.rejects(h.pool.query('DELETE FROM audit_log WHERE seq = 1'), /append-only/)
  await t.rejects(h.pool.query('TRUNCATE audit_log'), /append-only/)

  // Fail closed: when the audit insert fails, the request is refused (500) and nothing is done.
  await h.pool.query('ALTER TABLE audit_log ADD CONSTRAINT audit_block CHECK (seq < 0) NOT VALID')
  const failed = await vaultError(root.write('keys/cvk-a/rotate', {}))
  t.same([failed.status, failed.code], [500, 'audit_failed'])
  const created = await vaultError(root.write('keys/never', { type: 'cvk' }))
  t.equal(created.status, 500)
  await h.pool.query('ALTER TABLE audit_log DROP CONSTRAINT audit_block')
  t.equal((await root.read('keys/cvk-a')).data.latest_version, 1, 'rotation did not happen')
  t.equal((await vaultError(root.read('keys/never'))).code, 'unknown_key', 'key was not created')
  v = await verifyAuditLog(h.pool)
  t.equal(v.ok, true, 'chain intact after failed audit writes (no gap, no fork)')

  // Tampering by someone who can bypass triggers (superuser): detected.
  const dba = new pg.Client({ connectionString: h.dbUrl })
  await dba.connect()
  t.teardown(() => dba.end())
  await dba.query("SET session_replication_role = 'replica'")
  await dba.query("UPDATE audit_log SET entry = replace(entry, 'cvk-a', 'cvk-b') WHERE seq = 9")
  v = await verifyAuditLog(h.pool)
  t.equal(v.ok, false)
  t.same(v.problems, [{ seq: '9', problem: 'hash_mismatch' }], 'modified row found')

  await dba.query('DELETE FROM audit_log WHERE seq = 12')
  v = await verifyAuditLog(h.pool)
  t.ok(v.problems.some((p) => p.seq === '13' && p.problem === 'gap'), 'deleted row leaves a gap')
  t.ok(v.problems.some((p) => p.seq === '13' && p.problem === 'prev_hash_mismatch'), 'and a broken link')

  // Truncating the tail is caught against the JSON-lines head.
  const head = lines[lines.length - 1]
  await dba.query('DELETE FROM audit_log WHERE seq > 20')
  v = await verifyAuditLog(h.pool, head ? { seq: String(head.seq), hash: head.hash } : undefined)
  t.ok(v.problems.some((p) => p.problem === 'gap' && p.seq === String(head?.seq)), 'missing tail detected against the file copy')
})
