import t from 'tap'
import type { AuthorizationRequest, Decision } from '@cardplane/contracts'
import { UpstreamError, type BatchOutcome } from '@cardplane/service-kit'
import { DecisionService } from '../src/decision-service.js'
import type { LedgerPort } from '../src/ledger-client.js'
import { VelocityCounter } from '../src/velocity.js'
import { startHarness, type Harness } from './helpers/harness.js'

// Decision batches: requests decided together (one transaction, one ledger call) get exactly the answer
// each would get alone, and a batch is really one transaction (every row it wrote has the same xmin).

const eur = (minor: number) => ({ minor, currency: 'EUR' })

function service(h: Harness, ledger: LedgerPort): DecisionService {
  const now = () => new Date('2026-11-22T10:00:00Z')
  const prefix = `test:authz:batch:${Math.random().toString(36).slice(2)}`
  return new DecisionService({
    db: h.database.db,
    pool: h.database.pool,
    ledger,
    velocity: new VelocityCounter(h.redis, prefix),
    now,
    log: { warn: () => undefined },
  })
}

function value(o: BatchOutcome<Decision> | undefined): Decision {
  if (!o?.ok) throw new Error(`outcome failed: ${String(o && !o.ok ? o.error : 'missing')}`)
  return o.value
}

async function writers(h: Harness, ids: string[]): Promise<Map<string, string>> {
  const r = await h.database.pool.query('select authorization_id, xmin::text as x from authorizations where authorization_id = any($1)', [ids])
  return new Map(r.rows.map((row: { authorization_id: string; x: string }) => [row.authorization_id, row.x]))
}

void t.test('a mixed batch: each request gets what it would get alone', async (t) => {
  let real: LedgerPort | undefined
  const h = await startHarness({ ledger: (l) => (real = l) })
  t.teardown(() => h.stop())
  const decisions = service(h, real!)

  const rich = await h.card({ balance: 1_000 })
  const poor = await h.card({ balance: 50 })
  const frozen = await h.card({ balance: 1_000, status: 'frozen' })
  const replayed = await h.card({ balance: 1_000 })
  const inquiry = await h.card({ balance: 700 })
  const noAccount = `card_no_account_${Date.now()}`
  await h.call('cards', 'PUT', `/v1/cards/${noAccount}`, { accountId: 'acc_missing', programId: 'prog_x', status: 'active', currency: 'EUR' })

  const prior = h.request(replayed.cardId, 100)
  const first = await decisions.decide(prior)
  t.equal(first.outcome, 'approve')

  const requests: AuthorizationRequest[] = [
    h.request(rich.cardId, 100),
    h.request(poor.cardId, 100),
    h.request(frozen.cardId, 100),
    h.request('card_unknown_to_authorizations', 100),
    prior,
    h.request(inquiry.cardId, 0, { messageClass: 'balance_inquiry' }),
    h.request(noAccount, 100),
  ]
  const outcomes = await decisions.decideMany(requests)
  t.equal(outcomes.length, requests.length)

  const approved = value(outcomes[0])
  t.equal(approved.outcome, 'approve')
  t.ok(approved.holdId)
  t.match(value(outcomes[1]), { outcome: 'decline', reason: 'insufficient_funds', availableBalance: eur(50) })
  t.match(value(outcomes[2]), { outcome: 'decline', reason: 'card_frozen' })
  t.match(value(outcomes[3]), { outcome: 'decline', reason: 'unknown_card' })
  t.same(value(outcomes[4]), first, 'a decided authorisation replays its stored decision')
  t.match(value(outcomes[5]), { outcome: 'approve', availableBalance: eur(700) })
  t.match(outcomes[6], { ok: false, error: { context: { statusCode: 404, upstreamCode: 'account_not_found' } } })

  const xmins = await writers(h, requests.map((r) => r.authorizationId))
  const together = [0, 1, 2, 3].map((i) => xmins.get(requests[i]!.authorizationId))
  t.ok(together.every((x) => x !== undefined))
  t.equal(new Set(together).size, 1, 'the hold-placing requests were stored by one transaction')
  t.notOk(xmins.has(requests[6]!.authorizationId), 'a request the ledger refused stores nothing')
  t.not(xmins.get(prior.authorizationId), together[0], 'the replayed decision was not written again')

  const account = (id: string) => h.ledgerCall('console', 'GET', `/v1/accounts/${id}`).then((r) => r.body)
  t.same((await account(rich.accountId)).held, eur(100))
  t.same((await account(poor.accountId)).held, eur(0))
  t.same((await account(frozen.accountId)).held, eur(0))
  t.same((await account(replayed.accountId)).held, eur(100), 'the replay held nothing more')

  // The same batch again: every answer replays, nothing more is held.
  const again = await decisions.decideMany(requests.slice(0, 3))
  t.same(again.map(value), outcomes.slice(0, 3).map(value))
  t.same((await account(rich.accountId)).held, eur(100))
})

void t.test('the ledger down during a batch: every hold request answers issuer_unavailable and stores it', async (t) => {
  let real: LedgerPort | undefined
  const h = await startHarness({ ledger: (l) => (real = l) })
  t.teardown(() => h.stop())
  const down = (): never => {
    throw new UpstreamError('upstream_unreachable', { retry: true, context: { callee: 'ledger', method: 'POST', path: '/v1/holds' } })
  }
  const decisions = service(h, { ...real!, placeHolds: async () => down(), placeHold: async () => down() })
  const a = await h.card({ balance: 1_000 })
  const b = await h.card({ balance: 1_000 })
  const frozen = await h.card({ balance: 1_000, status: 'frozen' })
  const requests = [h.request(a.cardId, 100), h.request(b.cardId, 100), h.request(frozen.cardId, 100)]
  const outcomes = await decisions.decideMany(requests)
  t.match(value(outcomes[0]), { outcome: 'decline', reason: 'issuer_unavailable' })
  t.match(value(outcomes[1]), { outcome: 'decline', reason: 'issuer_unavailable' })
  t.match(value(outcomes[2]), { outcome: 'decline', reason: 'card_frozen' })
  const stored = await writers(h, requests.map((r) => r.authorizationId))
  t.equal(stored.size, 3, 'every answer is stored, so a repeat gets it again')
  // Repeats get the stored answers even with the ledger back.
  const back = service(h, real!)
  t.same((await back.decideMany(requests)).map(value), outcomes.map(value))
})

void t.test('over HTTP with one batch at a time: concurrent decisions share batches, one card stays serial', async (t) => {
  const h = await startHarness({ batch: { max: 32, concurrency: 1 } })
  t.teardown(() => h.stop())
  const cards = await Promise.all(Array.from({ length: 12 }, () => h.card({ balance: 1_000 })))
  const shared = await h.card({ balance: 1_500 })
  const requests = [
    ...cards.map((c) => h.request(c.cardId, 400)),
    h.request(shared.cardId, 1_000),
    h.request(shared.cardId, 1_000),
  ]
  const repeat = requests[0]!
  const answers = await Promise.all([...requests, repeat].map((r) => h.call('proxy-internal', 'POST', '/v1/decisions', r)))
  t.ok(answers.every((a) => a.status === 200))
  t.ok(answers.slice(0, 12).every((a) => a.body.outcome === 'approve'))
  t.same(answers[14]!.body, answers[0]!.body, 'a concurrent repeat gets the same decision')
  t.same([answers[12]!.body.outcome, answers[13]!.body.outcome].sort(), ['approve', 'decline'], 'one card: the second sees the first hold')
  const shown = await h.ledgerCall('console', 'GET', `/v1/accounts/${shared.accountId}`)
  t.same(shown.body.held, eur(1_000))
  const metrics = await h.app.metrics.registry.getSingleMetricAsString('authorization_decision_batch_size')
  const sum = Number(/_sum\{[^}]*\} (\d+)/.exec(metrics)?.[1])
  const count = Number(/_count\{[^}]*\} (\d+)/.exec(metrics)?.[1])
  t.equal(sum, 15, 'every decision went through a batch')
  t.ok(count < 15, `fewer batches (${count}) than decisions`)
  const xmins = await writers(h, requests.map((r) => r.authorizationId))
  t.ok(new Set(xmins.values()).size < requests.length, 'some decisions were stored together')
})

void t.test('POST /v1/decisions/batch: one answer per request, in order, a refused one alone', async (t) => {
  const h = await startHarness()
  t.teardown(() => h.stop())
  const a = await h.card({ balance: 1_000 })
  const b = await h.card({ balance: 1_000 })
  const decided = h.request(a.cardId, 100)
  t.equal((await h.call('proxy-internal', 'POST', '/v1/decisions', decided)).status, 200)
  // The same authorizationId for another card is a conflict; the other two are decided.
  const conflict = { ...decided, cardId: b.cardId }
  const requests = [h.request(b.cardId, 200), conflict, h.request(a.cardId, 5_000)]
  const res = await h.call('proxy-internal', 'POST', '/v1/decisions/batch', { requests })
  t.equal(res.status, 200)
  t.equal(res.body.results.length, 3)
  t.match(res.body.results[0], { statusCode: 200, body: { authorizationId: requests[0]!.authorizationId, outcome: 'approve' } })
  t.match(res.body.results[1], { statusCode: 409, body: { error: { code: 'idempotency_conflict' } } })
  const counted = await h.app.metrics.registry.getSingleMetricAsString('cardplane_errors_total')
  t.match(counted, /cardplane_errors_total\{[^}]*code="idempotency_conflict"[^}]*\} 1/, 'the refused item is counted as the same request alone would be')
  t.match(res.body.results[2], { statusCode: 200, body: { outcome: 'decline', reason: 'insufficient_funds' } })
  t.equal((await h.call('cards', 'POST', '/v1/decisions/batch', { requests })).status, 403, 'only proxy-internal may call')
  t.equal((await h.call('proxy-internal', 'POST', '/v1/decisions/batch', { requests: [] })).status, 400)
})
