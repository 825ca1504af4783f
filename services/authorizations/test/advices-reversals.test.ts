import t from 'tap'
import {
  AdviceResult,
  checkContract,
  Decision,
  ReversalResult,
  type AuthorizationAdvice,
  type AuthorizationRequest,
  type ReversalRequest,
} from '@cardplane/contracts'
import { DeadlineError, UpstreamError } from '@cardplane/service-kit'
import type { LedgerPort } from '../src/ledger-client.js'
import { startHarness, type Harness } from './helpers/harness.js'

let h: Harness
// Simulates "the ledger applied the hold but its answer was lost" for the next placeHold calls.
let loseNextHoldAnswer = false
// Simulates the ledger being unreachable.
let ledgerDown = false
const down = () => new UpstreamError('upstream_error', { retry: true, context: { callee: 'ledger' } })
t.before(async () => {
  h = await startHarness({
    ledger: (real): LedgerPort => ({
      ...real,
      async findHold(authorizationId) {
        if (ledgerDown) throw down()
        return real.findHold(authorizationId)
      },
      async placeHold(input) {
        if (ledgerDown) throw down()
        const r = await real.placeHold(input)
        if (loseNextHoldAnswer) {
          loseNextHoldAnswer = false
          throw new DeadlineError('deadline_exceeded', { context: { callee: 'ledger' } })
        }
        return r
      },
    }),
  })
})
t.teardown(async () => {
  await h.stop()
})

const post = async (path: string, body: unknown) => {
  const res = await h.call('proxy-internal', 'POST', path, body)
  if (res.status !== 200) throw new Error(`${path} failed: ${res.status} ${JSON.stringify(res.body)}`)
  const schema = path === '/v1/decisions' ? Decision : path === '/v1/advices' ? AdviceResult : ReversalResult
  const checked = checkContract(schema, res.body)
  if (!checked.ok) throw new Error(`${path} answer off contract: ${JSON.stringify(checked.issues)}`)
  return res.body
}
const decide = (r: AuthorizationRequest) => post('/v1/decisions', r)
const held = async (accountId: string) => (await h.ledgerCall('console', 'GET', `/v1/accounts/${accountId}`)).body.held.minor as number
let adv = 0
const advice = (
  request: AuthorizationRequest,
  outcome: 'approve' | 'partial' | 'decline',
  over: Partial<AuthorizationAdvice> = {},
): AuthorizationAdvice => ({
  adviceId: `adv_${request.authorizationId}_${++adv}`,
  source: 'processor_stand_in',
  standInReason: 'issuer_timeout',
  outcome,
  ...(outcome === 'decline' ? { reason: 'issuer_unavailable' as const } : { approvedAmount: request.amounts.cardholderBilling }),
  request,
  standInAt: request.receivedAt,
  ...over,
})
const reversal = (r: AuthorizationRequest, over: Partial<ReversalRequest> = {}): ReversalRequest => ({
  reversalId: `rev_${r.authorizationId}_${++adv}`,
  originalAuthorizationId: r.authorizationId,
  cardId: r.cardId,
  kind: 'full',
  reason: 'timeout',
  advice: true,
  network: r.network,
  receivedAt: r.receivedAt,
  ...over,
})

void t.test('an approved advice is posted even over balance and limits (forced hold)', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 1_000, controls: { perTransactionLimit: 500, dailyLimit: 500 } })
  const r = h.request(cardId, 3_000)
  const a = advice(r, 'approve')
  const res = await post('/v1/advices', a)
  t.same([res.status, res.heldAmount.minor], ['posted', 3_000])
  t.equal(await held(accountId), 3_000)
  const again = await post('/v1/advices', a)
  t.same(again, res, 'a repeated advice (0121) gets the same answer')
  t.equal(await held(accountId), 3_000, 'and no second hold')
  const late = await decide(r)
  t.same([late.outcome, late.source], ['approve', 'processor_stand_in'], 'a late decision request replays the stand-in answer')
  t.equal(await held(accountId), 3_000)
  const acc = (await h.ledgerCall('console', 'GET', `/v1/accounts/${accountId}`)).body
  t.equal(acc.available.minor, -2_000, 'the account went negative, as the network already approved')
})

void t.test('a stand-in decline is recorded; a later decision request for the same id holds nothing', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 1_000)
  const res = await post('/v1/advices', advice(r, 'decline'))
  t.same([res.status, res.heldAmount.minor], ['recorded', 0])
  const late = await decide(r)
  t.same([late.outcome, late.reason], ['decline', 'issuer_unavailable'])
  t.equal(await held(accountId), 0)
})

void t.test('late decision: issuer approved after the stand-in declined → the hold is released', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 2_000)
  t.equal((await decide(r)).outcome, 'approve')
  t.equal(await held(accountId), 2_000)
  const res = await post('/v1/advices', advice(r, 'decline'))
  t.same([res.status, res.issuerOutcome, res.heldAmount.minor], ['reconciled', 'approve', 0])
  t.equal(await held(accountId), 0)
  const stored = (await h.call('console', 'GET', `/v1/authorizations/${r.authorizationId}`)).body
  t.same([stored.outcome, stored.source, stored.issuerOutcome], ['decline', 'processor_stand_in', 'approve'])
  t.equal((await decide(r)).outcome, 'decline', 'repeats now answer what the scheme saw')
})

void t.test('late decision: both approved → one hold, resized to the stand-in amount', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 2_000)
  const d = await decide(r)
  const res = await post('/v1/advices', advice(r, 'approve'))
  t.same([res.status, res.holdId, res.heldAmount.minor], ['reconciled', d.holdId, 2_000])
  t.equal(await held(accountId), 2_000, 'not 4000')
  const r2 = h.request(cardId, 1_000)
  await decide(r2)
  const partial = await post('/v1/advices', advice(r2, 'partial', { approvedAmount: { minor: 400, currency: 'EUR' } }))
  t.equal(partial.heldAmount.minor, 400)
  t.equal(await held(accountId), 2_400)
})

void t.test('late decision: issuer declined, stand-in approved → forced hold placed', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 100 })
  const r = h.request(cardId, 900)
  t.equal((await decide(r)).reason, 'insufficient_funds')
  const res = await post('/v1/advices', advice(r, 'approve', { source: 'scheme_stand_in', standInReason: 'issuer_signed_off' }))
  t.same([res.status, res.issuerOutcome, res.heldAmount.minor], ['reconciled', 'decline', 900])
  t.equal(await held(accountId), 900)
})

void t.test('lost ledger answer: the hold is released and issuer_unavailable stored; an advice finds the truth', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 1_500)
  loseNextHoldAnswer = true
  const d = await decide(r)
  t.same([d.outcome, d.reason], ['decline', 'issuer_unavailable'])
  t.equal(await held(accountId), 0, 'the hold placed behind the lost answer was released')
  t.same(await decide(r), d, 'repeat: same answer')
  // The processor had already stood in and approved: its advice must end with exactly one active hold.
  const res = await post('/v1/advices', advice(r, 'approve'))
  t.same([res.status, res.heldAmount.minor], ['reconciled', 1_500])
  t.equal(await held(accountId), 1_500)
})

void t.test('advice for a hold the issuer never recorded (answer lost) reuses it instead of holding twice', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 800)
  // The ledger holds for r (e.g. the decision transaction failed after the hold), but nothing is stored here.
  await h.ledgerCall('authorizations', 'POST', '/v1/holds', { authorizationId: r.authorizationId, accountId, amount: r.amounts.cardholderBilling })
  const res = await post('/v1/advices', advice(r, 'approve'))
  t.same([res.status, res.heldAmount.minor], ['posted', 800])
  t.equal(await held(accountId), 800)
  const r2 = h.request(cardId, 300)
  await h.ledgerCall('authorizations', 'POST', '/v1/holds', { authorizationId: r2.authorizationId, accountId, amount: r2.amounts.cardholderBilling })
  await post('/v1/advices', advice(r2, 'decline'))
  t.equal(await held(accountId), 800, 'an orphan hold under a declined stand-in is released')
})

void t.test('reversals: full, repeated, partial, unknown original, reversal before authorisation', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 3_000)
  await decide(r)
  const full = reversal(r)
  const res = await post('/v1/reversals', full)
  t.same([res.status, res.releasedAmount.minor, res.remainingAmount.minor], ['reversed', 3_000, 0])
  t.same(await post('/v1/reversals', full), res, 'repeat (0421): same answer')
  t.equal((await post('/v1/reversals', reversal(r))).status, 'already_reversed')
  t.equal(await held(accountId), 0)

  const p = h.request(cardId, 5_000)
  await decide(p)
  const part = await post('/v1/reversals', reversal(p, { kind: 'partial', replacementAmount: { minor: 3_500, currency: 'EUR' } }))
  t.same([part.status, part.releasedAmount.minor, part.remainingAmount.minor], ['partially_reversed', 1_500, 3_500])
  t.equal(await held(accountId), 3_500)
  const rest = await post('/v1/reversals', reversal(p))
  t.same([rest.status, rest.releasedAmount.minor], ['reversed', 3_500])
  t.equal(await held(accountId), 0)

  const unknown = await post('/v1/reversals', reversal(h.request(cardId, 100)))
  t.equal(unknown.status, 'original_not_found')

  const declined = h.request(cardId, 999_999)
  await decide(declined)
  t.equal((await post('/v1/reversals', reversal(declined))).status, 'original_not_found', 'nothing held for a decline')

  // The acquirer timed out and reversed before our decision arrived: the authorisation must not hold.
  const overtaken = h.request(cardId, 700)
  t.equal((await post('/v1/reversals', reversal(overtaken))).status, 'original_not_found')
  const d = await decide(overtaken)
  t.same([d.outcome, d.reason], ['decline', 'invalid_transaction'])
  t.equal(await held(accountId), 0)
})

void t.test('a full reversal recorded before the stand-in advice: the advice is recorded, nothing is held', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 800)
  // 0420 and 0120 for the same authorisation, the reversal delivered first.
  t.equal((await post('/v1/reversals', reversal(r))).status, 'original_not_found')
  const res = await post('/v1/advices', advice(r, 'approve', { source: 'scheme_stand_in', standInReason: 'issuer_timeout' }))
  t.equal(res.status, 'recorded')
  t.equal(res.heldAmount.minor, 0)
  t.equal(await held(accountId), 0, 'no hold that nothing would ever release')
  const row = (await h.call('console', 'GET', `/v1/authorizations/${r.authorizationId}`)).body
  t.same([row.approved.minor, row.reversed.minor], [800, 800], 'recorded as approved by the stand-in and reversed')
  // The reversal's repeat still answers what it answered, and the advice's repeat changes nothing.
  t.equal((await post('/v1/reversals', reversal(r))).status, 'original_not_found')
  t.equal((await post('/v1/advices', advice(r, 'approve', { source: 'scheme_stand_in', standInReason: 'issuer_timeout' }))).heldAmount.minor, 0)
  t.equal(await held(accountId), 0)
})

void t.test('reversal of an incremented authorisation releases the whole hold', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 1_000)
  await decide(r)
  await decide(h.request(cardId, 500, { messageClass: 'incremental', originalAuthorizationId: r.authorizationId }))
  t.equal(await held(accountId), 1_500)
  const res = await post('/v1/reversals', reversal(r))
  t.same([res.status, res.releasedAmount.minor], ['reversed', 1_500])
  t.equal(await held(accountId), 0)
})

void t.test('ledger unreachable: issuer_unavailable, nothing stored, a retry once it is back is decided normally', async (t) => {
  const { cardId, accountId } = await h.card({ balance: 10_000 })
  const r = h.request(cardId, 1_000)
  ledgerDown = true
  try {
    const d = await decide(r)
    t.same([d.outcome, d.reason], ['decline', 'issuer_unavailable'])
    t.equal((await h.call('console', 'GET', `/v1/authorizations/${r.authorizationId}`)).status, 404, 'not stored')
  } finally {
    ledgerDown = false
  }
  const retry = await decide(r)
  t.equal(retry.outcome, 'approve')
  t.equal(await held(accountId), 1_000)
})

void t.test('card_usage equals the sum over authorisations after every decision, advice and reversal above', async (t) => {
  // Runs last: the tests above decided, stood in, reconciled, incremented and reversed on many cards.
  const { rows } = await h.database.pool.query<{ card_id: string; period: string; period_start: string; kept: string; summed: string }>(`
    with summed as (
      select card_id, 'day' as period, (decided_at at time zone 'UTC')::date as period_start, sum(approved_minor - reversed_minor) as amount
        from authorizations where outcome in ('approve', 'partial') group by 1, 3
      union all
      select card_id, 'month', date_trunc('month', decided_at at time zone 'UTC')::date, sum(approved_minor - reversed_minor)
        from authorizations where outcome in ('approve', 'partial') group by 1, 3
    )
    select coalesce(u.card_id, s.card_id) as card_id, coalesce(u.period, s.period) as period,
           coalesce(u.period_start, s.period_start)::text as period_start,
           coalesce(u.amount_minor, 0)::text as kept, coalesce(s.amount, 0)::text as summed
      from card_usage u full join summed s
        on s.card_id = u.card_id and s.period = u.period and s.period_start = u.period_start`)
  t.ok(rows.length > 0, 'the tests above left usage behind')
  const differing = rows.filter((r) => r.kept !== r.summed)
  t.same(differing, [], 'trigger-maintained usage matches a full recount')
  t.ok(rows.some((r) => r.kept !== '0'), 'some usage is non-zero')
})
