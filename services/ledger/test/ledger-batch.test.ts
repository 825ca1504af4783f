import t from 'tap'
import type { PlaceHoldInput } from '../src/store/ledger-store.js'
import { eur, storeHarness, type StoreHarness } from './helpers.js'

// placeHolds: the fully funded holds of a batch go in one statement (one transaction: one xmin), every
// other input takes placeHold's own path, and each outcome is what placeHold gives for that input alone.

let h: StoreHarness
t.before(async () => {
  h = await storeHarness(t, 'ledger_batch')
})

let n = 0
const authId = () => `auth-b-${++n}`
const funded = (minor: number) => h.funded(minor)

/** The transaction that wrote each hold (xmin), by authorisation. */
async function writers(ids: string[]): Promise<Map<string, string>> {
  const r = await h.database.pool.query('select authorization_id, xmin::text as x from holds where authorization_id = any($1)', [ids])
  return new Map(r.rows.map((row: { authorization_id: string; x: string }) => [row.authorization_id, row.x]))
}

void t.test('funded holds on distinct accounts are placed by one statement', async (t) => {
  const accounts = await Promise.all([funded(1000), funded(2000), funded(3000)])
  const inputs: PlaceHoldInput[] = accounts.map((accountId, i) => ({ authorizationId: authId(), accountId, amount: eur(100 * (i + 1)) }))
  const outcomes = await h.store.placeHolds(inputs)
  t.equal(outcomes.length, 3)
  outcomes.forEach((o, i) => {
    t.ok(o.ok)
    if (!o.ok) return
    t.equal(o.value.result, 'placed')
    t.equal(o.value.replayed, false)
    t.same(o.value.hold?.amount, eur(100 * (i + 1)))
    t.same(o.value.available, eur(1000 * (i + 1) - 100 * (i + 1)))
  })
  const xmins = await writers(inputs.map((i) => i.authorizationId))
  t.equal(xmins.size, 3)
  t.equal(new Set(xmins.values()).size, 1, 'one transaction wrote all three holds')
  for (const [i, accountId] of accounts.entries()) {
    t.same((await h.store.getAccount(accountId)).held, eur(100 * (i + 1)))
  }
})

void t.test('a mixed batch: each input gets what placeHold alone would give', async (t) => {
  const rich = await funded(1000)
  const poor = await funded(50)
  const partial = await funded(70)
  const shared = await funded(500)
  const replayed = await funded(1000)
  const first = await h.store.placeHold({ authorizationId: 'auth-b-prior', accountId: replayed, amount: eur(10) })
  const inputs: PlaceHoldInput[] = [
    { authorizationId: authId(), accountId: rich, amount: eur(100) },
    { authorizationId: authId(), accountId: poor, amount: eur(100) },
    { authorizationId: authId(), accountId: partial, amount: eur(100), allowPartial: true },
    { authorizationId: authId(), accountId: shared, amount: eur(300) },
    { authorizationId: authId(), accountId: shared, amount: eur(300) },
    { authorizationId: 'auth-b-prior', accountId: replayed, amount: eur(10) },
    { authorizationId: authId(), accountId: 'acc_nope', amount: eur(1) },
    { authorizationId: authId(), accountId: rich, amount: { minor: 5, currency: 'USD' } },
    { authorizationId: authId(), accountId: rich, amount: eur(0) },
  ]
  const outcomes = await h.store.placeHolds(inputs)
  const value = (i: number) => {
    const o = outcomes[i]!
    if (!o.ok) throw new Error(`input ${i} failed: ${String(o.error)}`)
    return o.value
  }
  t.equal(value(0).result, 'placed')
  t.equal(value(1).result, 'insufficient_funds')
  t.same(value(1).available, eur(50))
  t.notOk(value(1).hold)
  t.equal(value(2).result, 'partial')
  t.same(value(2).hold?.amount, eur(70))
  // Two holds on one account: one goes with the batch, the other through the general path after it.
  t.same([value(3).result, value(4).result].sort(), ['insufficient_funds', 'placed'])
  t.equal(value(5).replayed, true)
  t.equal(value(5).hold?.id, first.hold?.id)
  t.match(outcomes[6], { ok: false, error: { code: 'account_not_found' } })
  t.match(outcomes[7], { ok: false, error: { code: 'currency_mismatch' } })
  t.match(outcomes[8], { ok: false })
  t.same((await h.store.getAccount(shared)).held, eur(300), 'one of the two holds on the shared account')
  t.same((await h.store.getAccount(rich)).held, eur(100))
  t.same((await h.store.getAccount(replayed)).held, eur(10), 'the replay held nothing more')
})

void t.test('a batch repeated: every hold replays, nothing is held twice', async (t) => {
  const accounts = await Promise.all([funded(500), funded(500)])
  const inputs: PlaceHoldInput[] = accounts.map((accountId) => ({ authorizationId: authId(), accountId, amount: eur(200) }))
  const [a, b] = await Promise.all([h.store.placeHolds(inputs), h.store.placeHolds(inputs)])
  for (const [i] of inputs.entries()) {
    t.ok(a[i]!.ok && b[i]!.ok)
    if (!a[i]!.ok || !b[i]!.ok) continue
    t.equal(a[i]!.value.hold?.id, b[i]!.value.hold?.id, 'the same hold both times')
    t.equal(Number(a[i]!.value.replayed) + Number(b[i]!.value.replayed), 1, 'placed once, replayed once')
  }
  for (const accountId of accounts) t.same((await h.store.getAccount(accountId)).held, eur(200))
})

void t.test('concurrent batches over the same accounts in opposite orders all complete', async (t) => {
  const accounts = await Promise.all(Array.from({ length: 8 }, () => funded(10_000)))
  const batch = (order: string[]) => order.map((accountId) => ({ authorizationId: authId(), accountId, amount: eur(10) }))
  const rounds = Array.from({ length: 10 }, (_, i) => h.store.placeHolds(batch(i % 2 === 0 ? accounts : [...accounts].reverse())))
  const all = await Promise.all(rounds)
  t.ok(all.flat().every((o) => o.ok && o.value.result === 'placed'))
  for (const accountId of accounts) t.same((await h.store.getAccount(accountId)).held, eur(100))
})
