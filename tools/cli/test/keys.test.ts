import { kcv } from '@cardplane/payment-crypto'
import pg from 'pg'
import t from 'tap'
import { runKeys, type KeysIo } from '../src/commands/keys.js'
import { startHarness } from '../../../cde/keyvault/test/helpers.js'

t.test('pnpm cardplane keys: a key ceremony against a running key service', async (t) => {
  const h = await startHarness()
  t.teardown(h.close)
  const cli = async (argv: string[], env: Record<string, string> = {}, input = ''): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = []
    const err: string[] = []
    const io: KeysIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { VAULT_ADDR: h.url, ...env }, prompt: async () => input }
    return { code: await runKeys(argv, io), out, err }
  }

  const init = await cli(['init', '--shares', '3', '--threshold', '2'])
  t.equal(init.code, 0)
  const shares = init.out.filter((l) => l.startsWith('Unseal share')).map((l) => l.split(': ')[1] ?? '')
  const rootToken = init.out.find((l) => l.startsWith('Root token'))?.split(': ')[1] ?? ''
  t.equal(shares.length, 3)
  t.match((await cli(['unseal', shares[0] ?? ''])).out[0], /1\/2/)
  t.equal((await cli(['unseal'], {}, shares[2] ?? '')).out[0], 'unsealed', 'share read at the prompt')
  t.match((await cli(['status'])).out[0], /sealed=false/)

  const root = { VAULT_TOKEN: rootToken }
  t.equal((await cli(['ceremony', 'zmk-bank', '--type', 'zmk', '--components', '2'], root)).code, 0)
  const comps = ['0123456789ABCDEF0123456789ABCDEF', 'FEDCBA9876543210FEDCBA9876543210']
  const expected = kcv('FEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFE', { algorithm: 'tdes' })
  let last: string[] = []
  for (const [i, name] of ['alice', 'bob'].entries()) {
    const tok = (await cli(['custodian-token', name], root)).out[0]?.split(': ')[1] ?? ''
    const comp = comps[i] ?? ''
    const kcvOf = await cli(['kcv-of', '--algorithm', 'tdes'], {}, comp)
    t.equal(kcvOf.out[0], `KCV ${kcv(comp, { algorithm: 'tdes' })}`, 'component KCV computed locally from the prompt')
    // Component typed at the prompt, not on the command line (shell history).
    const r = await cli(['component', 'zmk-bank', '--custodian', name, '--kcv', kcv(comp, { algorithm: 'tdes' })], { VAULT_TOKEN: tok }, comp)
    t.equal(r.code, 0, r.err.join('\n'))
    last = r.out
  }
  t.match(last.join('\n'), new RegExp(`combined KCV ${expected}`), 'combined KCV shown to the custodians')
  t.equal((await cli(['kcv', 'zmk-bank'], root)).out[0], `zmk-bank v1 KCV ${expected}`)

  t.equal((await cli(['create', 'cvk-a', '--type', 'cvk', '--exportable'], root)).code, 0)
  t.match((await cli(['rotate', 'cvk-a'], root)).out[0], /now v2/)
  const ex = await cli(['export', 'cvk-a', '--kbpk', 'zmk-bank'], root)
  const block = ex.out[1] ?? ''
  t.match(block, /^B/, 'TDES KBPK → TR-31 version B')
  const imp = await cli(['import', 'cvk-b', '--kbpk', 'zmk-bank', '--key-block', block], root)
  t.equal(imp.code, 0, imp.err.join('\n'))
  t.equal(imp.out[0]?.split('KCV ')[1], ex.out[0]?.split('KCV ')[1]?.split(' ')[0], 'import of the exported block has the same KCV')
  t.same((await cli(['list'], root)).out, ['cvk-a', 'cvk-b', 'zmk-bank'])
  const bad = await cli(['create', 'x', '--type', 'nope'], root)
  t.equal(bad.code, 1)
  t.match(bad.err[0], /400: invalid_field/)
  t.equal((await cli(['create', 'x'], root)).code, 2, 'usage error')

  const ok = await cli(['audit-verify', '--database-url', h.dbUrl, '--file', h.auditFile])
  t.equal(ok.code, 0, ok.err.join('\n'))
  t.match(ok.out.join('\n'), /OK: chain intact/)
  const dba = new pg.Client({ connectionString: h.dbUrl })
  await dba.connect()
  await dba.query("SET session_replication_role = 'replica'")
  await dba.query('DELETE FROM audit_log WHERE seq = 5')
  await dba.end()
  const tampered = await cli(['audit-verify', '--database-url', h.dbUrl])
  t.equal(tampered.code, 1)
  t.match(tampered.out.join('\n'), /TAMPERED/)
  t.match(tampered.err.join('\n'), /seq 6: gap/)

  t.equal((await cli(['revoke-self'], root)).code, 0)
  t.equal((await cli(['list'], root)).code, 1, 'root token revoked')
})
