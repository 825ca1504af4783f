import t from 'tap'
import { migrateDatabase } from '../src/db/client.js'
import type { LedgerStore } from '../src/store/ledger-store.js'
import { AccountNotFoundError, CurrencyMismatchError } from '../src/errors.js'
import { eur, storeHarness, type StoreHarness } from './helpers.js'

let h: StoreHarness
let store: LedgerStore
t.before(async () => {
  h = await storeHarness(t, 'ledger_store')
  await migrateDatabase(h.database.pool) // re-running is a no-op
  store = h.store
})

let n = 0
const fundedAccount = (minor: number) => h.funded(minor)
const authId = () => `auth-${++n}-${Date.now()}`

void t.test('accounts: create with a chosen id is idempotent; another currency conflicts', async (t) => {
  const a = await store.createAccount({ id: 'acc-fixed-1', currency: 'EUR' })
  t.ok(a.created)
  const b = await store.createAccount({ id: 'acc-fixed-1', currency: 'EUR' })
  t.notOk(b.created)
  await t.rejects(store.createAccount({ id: 'acc-fixed-1', currency: 'USD' }), { code: 'account_conflict' })
  await t.rejects(store.getAccount('nope'), { code: 'account_not_found', statusCode: 404 })
})

void t.test('credits are idempotent by key and checked for currency', async (t) => {
  const id = await fundedAccount(0)
  const first = await store.credit({ accountId: id, idempotencyKey: 'k1', amount: eur(500) })
  const again = await store.credit({ accountId: id, idempotencyKey: 'k1', amount: eur(500) })
  t.equal(first.replayed, false)
  t.equal(again.replayed, true)
  t.same((await store.getAccount(id)).balance, eur(500))
  await t.rejects(store.credit({ accountId: id, idempotencyKey: 'k1', amount: eur(501) }), { code: 'idempotency_conflict' })
  await t.rejects(store.credit({ accountId: id, idempotencyKey: 'k2', amount: { minor: 1, currency: 'USD' } }), {
    code: 'currency_mismatch',
  })
})

void t.test('hold at the exact available amount succeeds, one minor unit more is refused', async (t) => {
  const id = await fundedAccount(1000)
  const over = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(1001) })
  t.equal(over.result, 'insufficient_funds')
  t.same(over.available, eur(1000))
  t.notOk(over.hold)
  const exact = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(1000) })
  t.equal(exact.result, 'placed')
  const acc = await store.getAccount(id)
  t.same([acc.balance.minor, acc.held.minor, acc.available.minor], [1000, 1000, 0])
  const next = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(1) })
  t.equal(next.result, 'insufficient_funds')
})

void t.test('the same authorizationId returns the same hold, once', async (t) => {
  const id = await fundedAccount(1000)
  const key = authId()
  const a = await store.placeHold({ authorizationId: key, accountId: id, amount: eur(300) })
  const b = await store.placeHold({ authorizationId: key, accountId: id, amount: eur(300) })
  t.equal(a.hold?.id, b.hold?.id)
  t.equal(b.replayed, true)
  t.equal(b.result, 'placed')
  t.same((await store.getAccount(id)).held, eur(300))
  await t.rejects(store.placeHold({ authorizationId: key, accountId: id, amount: eur(900) }), { code: 'idempotency_conflict' })
})

void t.test('concurrent duplicates place exactly one hold; concurrent distinct holds never overdraw', async (t) => {
  const id = await fundedAccount(1000)
  const key = authId()
  const dup = await Promise.all(
    Array.from({ length: 12 }, () => store.placeHold({ authorizationId: key, accountId: id, amount: eur(400) })),
  )
  t.equal(new Set(dup.map((r) => r.hold?.id)).size, 1, 'one hold id')
  t.equal(dup.filter((r) => !r.replayed).length, 1, 'one placement, the rest replays')
  t.same((await store.getAccount(id)).held, eur(400))
  // 600 left: 10 concurrent holds of 100 → exactly 6 succeed.
  const many = await Promise.all(
    Array.from({ length: 10 }, () => store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(100) })),
  )
  t.equal(many.filter((r) => r.result === 'placed').length, 6)
  const acc = await store.getAccount(id)
  t.same([acc.held.minor, acc.available.minor], [1000, 0])
})

void t.test('partial hold when allowed; replay answers partial again', async (t) => {
  const id = await fundedAccount(250)
  const key = authId()
  const r = await store.placeHold({ authorizationId: key, accountId: id, amount: eur(400), allowPartial: true })
  t.equal(r.result, 'partial')
  t.same(r.hold?.amount, eur(250))
  t.same(r.hold?.requested, eur(400))
  const again = await store.placeHold({ authorizationId: key, accountId: id, amount: eur(400), allowPartial: true })
  t.equal(again.result, 'partial')
  t.equal(again.hold?.id, r.hold?.id)
})

void t.test('forced holds may overdraw (posted advices)', async (t) => {
  const id = await fundedAccount(100)
  const r = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(500), force: true })
  t.equal(r.result, 'placed')
  t.same((await store.getAccount(id)).available, eur(-400))
})

void t.test('release: partial then full, idempotent; release of a released hold moves nothing', async (t) => {
  const id = await fundedAccount(1000)
  const placed = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(600) })
  const holdId = placed.hold!.id
  const part = await store.releaseHold({ holdId, releaseId: 'rel-a', amount: eur(200) })
  t.same([part.result, part.amount.minor, part.hold.amount.minor, part.hold.status], ['applied', 200, 400, 'active'])
  const partAgain = await store.releaseHold({ holdId, releaseId: 'rel-a', amount: eur(200) })
  t.equal(partAgain.replayed, true)
  t.same((await store.getAccount(id)).held, eur(400))
  const full = await store.releaseHold({ holdId, releaseId: 'rel-b' })
  t.same([full.amount.minor, full.hold.status], [400, 'released'])
  const late = await store.releaseHold({ holdId, releaseId: 'rel-c' })
  t.same([late.result, late.amount.minor], ['not_active', 0])
  t.same((await store.getAccount(id)).available, eur(1000))
  await t.rejects(store.releaseHold({ holdId: 'hold_missing', releaseId: 'x' }), { code: 'hold_not_found' })
  await t.rejects(
    store.incrementHold({ holdId, incrementId: 'rel-a', amount: eur(1) }),
    { code: 'idempotency_conflict' },
    'an operation id reused for another kind of operation is refused',
  )
})

void t.test('increment: adds to the hold when funded, refuses when not, idempotent', async (t) => {
  const id = await fundedAccount(1000)
  const placed = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(500) })
  const holdId = placed.hold!.id
  const inc = await store.incrementHold({ holdId, incrementId: 'inc-1', amount: eur(300) })
  t.same([inc.result, inc.hold.amount.minor], ['applied', 800])
  const again = await store.incrementHold({ holdId, incrementId: 'inc-1', amount: eur(300) })
  t.same([again.replayed, again.hold.amount.minor], [true, 800])
  const tooMuch = await store.incrementHold({ holdId, incrementId: 'inc-2', amount: eur(300) })
  t.same([tooMuch.result, tooMuch.hold.amount.minor], ['insufficient_funds', 800])
  t.same((await store.getAccount(id)).held, eur(800))
  // The original authorizationId still replays to the same hold after an increment.
  const replay = await store.placeHold({ authorizationId: placed.hold!.authorizationId, accountId: id, amount: eur(500) })
  t.equal(replay.hold?.id, holdId)
})

void t.test('capture debits the balance; final capture releases the rest', async (t) => {
  const id = await fundedAccount(1000)
  const placed = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(500) })
  const cap = await store.captureHold({ holdId: placed.hold!.id, captureId: 'cap-1', amount: eur(450), final: true })
  t.same([cap.hold.status, cap.hold.captured.minor, cap.hold.released.minor], ['captured', 450, 50])
  const acc = await store.getAccount(id)
  t.same([acc.balance.minor, acc.held.minor, acc.available.minor], [550, 0, 550])
  const again = await store.captureHold({ holdId: placed.hold!.id, captureId: 'cap-1', amount: eur(450), final: true })
  t.equal(again.replayed, true)
  t.same((await store.getAccount(id)).balance, eur(550))
  await t.rejects(store.captureHold({ holdId: placed.hold!.id, captureId: 'cap-2', amount: eur(1), final: true }), {
    code: 'hold_not_active',
  })
})

void t.test('expired holds stop counting against the balance', async (t) => {
  const id = await fundedAccount(1000)
  await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(700) })
  t.same((await store.getAccount(id)).available, eur(300))
  h.clock.now = new Date(h.clock.now.getTime() + 3601_000)
  t.same((await store.getAccount(id)).available, eur(1000))
  const r = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(900) })
  t.equal(r.result, 'placed')
})

void t.test('one-statement placement hands every other case to the general path with its own answer', async (t) => {
  const id = await fundedAccount(1000)
  // Funded: placed in one statement; the account's held amount and the hold row agree.
  const placed = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(250) })
  t.equal(placed.result, 'placed')
  t.same(placed.available, eur(750))
  t.same((await store.getHold(placed.hold!.id)).amount, eur(250))
  // Another currency: the general path refuses it, nothing is held.
  await t.rejects(store.placeHold({ authorizationId: authId(), accountId: id, amount: { minor: 10, currency: 'USD' } }), CurrencyMismatchError)
  await t.rejects(store.placeHold({ authorizationId: authId(), accountId: 'acc_missing', amount: eur(10) }), AccountNotFoundError)
  await t.rejects(store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(0) }), RangeError)
  // Unfunded without partial: insufficient, with the available amount.
  const poor = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(751) })
  t.same([poor.result, poor.available], ['insufficient_funds', eur(750)])
  // Forced: placed beyond the funds in the same statement.
  const forced = await store.placeHold({ authorizationId: authId(), accountId: id, amount: eur(900), force: true })
  t.same([forced.result, forced.available], ['placed', eur(-150)])
  t.same((await store.getAccount(id)).held, eur(1150))
})
