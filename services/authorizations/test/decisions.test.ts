import t from 'tap'
import { checkContract, Decision, type AuthorizationRequest } from '@cardplane/contracts'
import { startHarness, type Harness } from './helpers/harness.js'

let h: Harness
t.before(async () => {
  h = await startHarness()
})
t.teardown(async () => {
  await h.stop()
})

const decide = async (r: AuthorizationRequest) => {
  const res = await h.call('proxy-internal', 'POST', '/v1/decisions', r)
  if (res.status !== 200) throw new Error(`decision failed: ${res.status} ${JSON.stringify(res.body)}`)
  // Every answer must be the contract the processor validates (the processor refuses anything else).
  const checked = checkContract(Decision, res.body)
  if (!checked.ok) throw new Error(`decision off contract: ${JSON.stringify(checked.issues)}`)
  return res.body
}
const account = async (accountId: string) => (await h.ledgerCall('console', 'GET', `/v1/accounts/${accountId}`)).body

void t.test('approve: hold placed in the ledger for the billing amount', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const d = await decide(h.request(cardId, 2_500))
  t.equal(d.outcome, 'approve')
  t.same(d.approvedAmount, { minor: 2_500, currency: 'EUR' })
  t.equal(d.source, 'issuer')
  t.ok(d.holdId)
  const acc = await account(accountId)
  t.same([acc.held.minor, acc.available.minor], [2_500, 7_500])
})

void t.test('insufficient funds at the boundary', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 1_000 })
  const over = await decide(h.request(cardId, 1_001))
  t.same([over.outcome, over.reason], ['decline', 'insufficient_funds'])
  t.same((await account(accountId)).held.minor, 0, 'no hold for a decline')
  const exact = await decide(h.request(cardId, 1_000))
  t.equal(exact.outcome, 'approve')
  const more = await decide(h.request(cardId, 1))
  t.same([more.outcome, more.reason], ['decline', 'insufficient_funds'])
})

void t.test('partial approval only when the request allows it', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 600 })
  const no = await decide(h.request(cardId, 1_000))
  t.same([no.outcome, no.reason], ['decline', 'insufficient_funds'])
  const yes = await decide(h.request(cardId, 1_000, { partialApprovalCapable: true }))
  t.equal(yes.outcome, 'partial')
  t.same(yes.approvedAmount, { minor: 600, currency: 'EUR' })
  t.same(yes.requestedAmount, { minor: 1_000, currency: 'EUR' })
  t.same((await account(accountId)).available.minor, 0)
})

void t.test('same authorizationId twice: same decision, one hold', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 5_000 })
  const r = h.request(cardId, 1_200)
  const a = await decide(r)
  const b = await decide(r)
  t.same(b, a, 'identical decision (same holdId, same decidedAt)')
  t.same((await account(accountId)).held.minor, 1_200)
})

void t.test('concurrent duplicates: one decision, one hold', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 5_000 })
  const r = h.request(cardId, 700)
  const all = await Promise.all(Array.from({ length: 10 }, () => decide(r)))
  for (const d of all) t.same(d, all[0], 'same decision (deep equal)')
  t.equal(all[0].outcome, 'approve')
  t.same((await account(accountId)).held.minor, 700)
})

void t.test('concurrent distinct authorisations on one card never exceed the balance or the daily limit', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000, controls: { dailyLimit: 3_000 } })
  const all = await Promise.all(Array.from({ length: 8 }, () => decide(h.request(cardId, 1_000))))
  t.equal(all.filter((d) => d.outcome === 'approve').length, 3)
  t.equal(all.filter((d) => d.reason === 'limit_exceeded_daily').length, 5)
  t.same((await account(accountId)).held.minor, 3_000)
})

void t.test('card status declines', async (t) => {
  const cases = [
    ['inactive', 'card_not_active'],
    ['frozen', 'card_frozen'],
    ['blocked', 'card_blocked'],
    ['lost', 'card_lost_stolen'],
    ['stolen', 'card_lost_stolen'],
    ['cancelled', 'card_cancelled'],
    ['expired', 'card_expired'],
  ] as const
  for (const [status, reason] of cases) {
    const { cardId, accountId } = await h.card({ balance: 5_000, status })
    const d = await decide(h.request(cardId, 100))
    t.same([d.outcome, d.reason], ['decline', reason], status)
    t.equal((await account(accountId)).held.minor, 0)
  }
})

void t.test('freezing a card through PUT /v1/cards takes effect on the next decision', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 5_000 })
  t.equal((await decide(h.request(cardId, 100))).outcome, 'approve')
  const put = await h.call('cards', 'PUT', `/v1/cards/${cardId}`, {
    accountId,
    programId: 'prog_x',
    status: 'frozen',
    currency: 'EUR',
  })
  t.equal(put.status, 200)
  t.equal((await decide(h.request(cardId, 100))).reason, 'card_frozen')
})

void t.test('verification results from the CDE', async (t) => {
  const { cardId } = await h.card({ balance: 5_000 })
  const base = h.request(cardId, 100)
  const cases: [Partial<AuthorizationRequest['verification']>, Partial<AuthorizationRequest['pos']>, string][] = [
    [{ cvv2: 'mismatch' }, {}, 'invalid_cvv'],
    [{ pin: 'mismatch' }, { pinEntered: true }, 'invalid_pin'],
    [{ pin: 'locked' }, { pinEntered: true }, 'pin_tries_exceeded'],
    [{ arqc: 'mismatch' }, { entryMode: 'chip', cardPresent: true }, 'invalid_cryptogram'],
    [{ expiry: 'mismatch' }, {}, 'card_expired'],
  ]
  for (const [v, pos, reason] of cases) {
    const d = await decide(
      h.request(cardId, 100, { verification: { ...base.verification, ...v }, pos: { ...base.pos, ...pos } }),
    )
    t.same([d.outcome, d.reason], ['decline', reason], reason)
  }
  const fraud = await decide(h.request(cardId, 100, { pos: { ...base.pos, threeDs: 'failed' } }))
  t.equal(fraud.reason, 'suspected_fraud')
})

void t.test('spend controls: MCC, country, per-transaction limit, card and program', async (t) => {
  const programId = `prog_controls_${Date.now()}`
  const prog = await h.call('console', 'PUT', `/v1/programs/${programId}`, {
    controls: { blockedCountries: ['KP'], perTransactionLimit: 5_000 },
  })
  t.equal(prog.status, 200)
  const { cardId } = await h.card({ balance: 50_000, programId, controls: { blockedMccs: ['7995'], perTransactionLimit: 20_000 } })
  const base = h.request(cardId, 100)
  t.equal((await decide(h.request(cardId, 100, { merchant: { ...base.merchant, mcc: '7995' } }))).reason, 'mcc_blocked')
  t.equal((await decide(h.request(cardId, 100, { merchant: { ...base.merchant, country: 'KP' } }))).reason, 'country_blocked')
  t.equal((await decide(h.request(cardId, 5_001))).reason, 'limit_exceeded_transaction', "the program's lower limit applies")
  t.equal((await decide(h.request(cardId, 5_000))).outcome, 'approve')
})

void t.test('daily and monthly limits across several authorisations; reversals give room back', async (t) => {
  const { cardId } = await h.card({ balance: 100_000, controls: { dailyLimit: 3_000, monthlyLimit: 5_000 } })
  h.setNow(new Date('2026-11-10T09:00:00Z'))
  try {
    t.equal((await decide(h.request(cardId, 2_000))).outcome, 'approve')
    const second = h.request(cardId, 1_000)
    t.equal((await decide(second)).outcome, 'approve')
    t.equal((await decide(h.request(cardId, 1))).reason, 'limit_exceeded_daily')
    const rev = await h.call('proxy-internal', 'POST', '/v1/reversals', {
      reversalId: `rev_${second.authorizationId}`,
      originalAuthorizationId: second.authorizationId,
      cardId,
      kind: 'full',
      reason: 'customer_cancellation',
      advice: false,
      network: second.network,
      receivedAt: '2026-11-10T09:05:00Z',
    })
    t.equal(rev.body.status, 'reversed')
    t.equal((await decide(h.request(cardId, 1_000))).outcome, 'approve', 'the reversed amount no longer counts')
    h.setNow(new Date('2026-11-11T09:00:00Z'))
    t.equal((await decide(h.request(cardId, 1_500))).outcome, 'approve', 'new day')
    t.equal((await decide(h.request(cardId, 600))).reason, 'limit_exceeded_monthly', '3000 + 1500 + 600 > 5000')
    h.setNow(new Date('2026-12-01T00:00:00Z'))
    t.equal((await decide(h.request(cardId, 2_500))).outcome, 'approve', 'new month')
  } finally {
    h.setNow(new Date('2026-11-22T10:00:00Z'))
  }
})

void t.test('velocity: count per card per window in Redis', async (t) => {
  const { cardId } = await h.card({ balance: 100_000, controls: { velocity: [{ windowSeconds: 60, maxCount: 3 }] } })
  h.setNow(new Date('2026-11-22T11:00:05Z'))
  try {
    const results = []
    for (let i = 0; i < 4; i++) results.push((await decide(h.request(cardId, 100))).outcome)
    t.same(results, ['approve', 'approve', 'approve', 'decline'])
    t.equal((await decide(h.request(cardId, 100))).reason, 'velocity_exceeded')
    h.setNow(new Date('2026-11-22T11:01:05Z'))
    t.equal((await decide(h.request(cardId, 100))).outcome, 'approve', 'next window')
  } finally {
    h.setNow(new Date('2026-11-22T10:00:00Z'))
  }
})

void t.test('message checks: invalid amount, currency, unknown card, duplicate network message', async (t) => {
  const { cardId } = await h.card({ balance: 5_000 })
  t.equal((await decide(h.request(cardId, 0))).reason, 'invalid_amount')
  const usd = h.request(cardId, 100)
  usd.amounts.cardholderBilling = { minor: 100, currency: 'USD' }
  t.equal((await decide(usd)).reason, 'invalid_transaction')
  t.equal((await decide(h.request('card_does_not_exist', 100))).reason, 'unknown_card')
  const first = h.request(cardId, 100)
  t.equal((await decide(first)).outcome, 'approve')
  const sameMessageOtherId = { ...first, authorizationId: `${first.authorizationId}_x` }
  t.equal((await decide(sameMessageOtherId)).reason, 'duplicate')
})

void t.test('balance inquiry and account verification hold nothing', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 4_321 })
  const bi = await decide(h.request(cardId, 0, { messageClass: 'balance_inquiry' }))
  t.equal(bi.outcome, 'approve')
  t.same(bi.availableBalance, { minor: 4_321, currency: 'EUR' })
  const av = await decide(h.request(cardId, 0, { messageClass: 'account_verification' }))
  t.same([av.outcome, av.approvedAmount.minor], ['approve', 0])
  t.equal((await account(accountId)).held.minor, 0)
})

void t.test('incremental authorisation grows the original hold', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const original = h.request(cardId, 3_000)
  const d = await decide(original)
  const inc = await decide(h.request(cardId, 2_000, { messageClass: 'incremental', originalAuthorizationId: original.authorizationId }))
  t.same([inc.outcome, inc.holdId], ['approve', d.holdId])
  t.equal((await account(accountId)).held.minor, 5_000)
  const tooMuch = await decide(h.request(cardId, 6_000, { messageClass: 'incremental', originalAuthorizationId: original.authorizationId }))
  t.equal(tooMuch.reason, 'insufficient_funds')
  const orphan = await decide(h.request(cardId, 100, { messageClass: 'incremental', originalAuthorizationId: 'auth_unknown' }))
  t.equal(orphan.reason, 'invalid_transaction')
})

void t.test('only proxy-internal may ask for decisions; bodies are validated', async (t) => {
  const { cardId } = await h.card({ balance: 100 })
  const r = h.request(cardId, 10)
  t.equal((await h.call(null, 'POST', '/v1/decisions', r)).status, 401)
  t.equal((await h.call('cards', 'POST', '/v1/decisions', r)).status, 403)
  t.equal((await h.call('processor', 'POST', '/v1/decisions', r)).status, 403, 'group 2 must go through the proxy')
  const pan = await h.call('proxy-internal', 'POST', '/v1/decisions', { ...r, cardId: '4111111111111111' })
  t.equal(pan.status, 400)
  t.notMatch(JSON.stringify(pan.body), '4111111111111111')
  const probe = await h.call('cards', 'GET', '/v1/probe')
  t.same([probe.status, probe.body.service], [200, 'authorizations'])
  const stored = await h.call('console', 'GET', `/v1/authorizations/${r.authorizationId}`)
  t.equal(stored.status, 404)
})
