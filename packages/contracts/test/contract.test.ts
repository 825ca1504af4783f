import t from 'tap'
import {
  AuthorizationAdvice,
  AuthorizationRequest,
  checkContract,
  DECLINE_REASONS,
  Decision,
  exampleAuthorizationRequest,
  isDeclineReason,
  ReversalRequest,
  type DeclineReason,
} from '../src/index.js'

void t.test('the example request is valid', async (t) => {
  const r = checkContract(AuthorizationRequest, exampleAuthorizationRequest())
  t.ok(r.ok, JSON.stringify(r))
})

void t.test('a PAN in cardId is refused and not echoed in the issues', async (t) => {
  const pan = '4111111111111111'
  const r = checkContract(AuthorizationRequest, exampleAuthorizationRequest({ cardId: pan }))
  t.notOk(r.ok)
  if (!r.ok) {
    t.ok(r.issues.some((i) => i.path === '/cardId'))
    t.notMatch(JSON.stringify(r.issues), pan)
  }
})

void t.test('money is integer minor units with an ISO 4217 alpha code', async (t) => {
  const base = exampleAuthorizationRequest()
  const bad = [
    { minor: 12.5, currency: 'EUR' },
    { minor: -1, currency: 'EUR' },
    { minor: 100, currency: 'eur' },
    { minor: 100, currency: '978' },
    { minor: '100', currency: 'EUR' },
  ]
  for (const transaction of bad) {
    const r = checkContract(AuthorizationRequest, { ...base, amounts: { ...base.amounts, transaction } })
    t.notOk(r.ok, JSON.stringify(transaction))
  }
})

void t.test('unknown fields and bad enums are refused', async (t) => {
  const base = exampleAuthorizationRequest()
  t.notOk(checkContract(AuthorizationRequest, { ...base, pan: '4111111111111111' }).ok, 'extra property')
  t.notOk(checkContract(AuthorizationRequest, { ...base, messageClass: 'advice' }).ok, 'advice is not a decision request')
  t.notOk(
    checkContract(AuthorizationRequest, { ...base, verification: { ...base.verification, cvv2: 'ok' } }).ok,
    'verification result outside the list',
  )
  t.notOk(checkContract(AuthorizationRequest, { ...base, receivedAt: 'yesterday' }).ok, 'timestamp format')
  t.notOk(checkContract(AuthorizationRequest, { ...base, merchant: { ...base.merchant, mcc: '541' } }).ok, 'mcc')
})

void t.test('decision: decline needs exactly one reason from the closed list', async (t) => {
  const common = { authorizationId: 'a1', source: 'issuer', decidedAt: '2026-11-22T02:40:00Z' }
  t.ok(checkContract(Decision, { ...common, outcome: 'decline', reason: 'insufficient_funds' }).ok)
  t.notOk(checkContract(Decision, { ...common, outcome: 'decline' }).ok, 'missing reason')
  t.notOk(checkContract(Decision, { ...common, outcome: 'decline', reason: 'because' }).ok, 'unknown reason')
  t.notOk(checkContract(Decision, { ...common, outcome: 'approve', reason: 'card_frozen' }).ok, 'approve with reason')
  t.ok(checkContract(Decision, { ...common, outcome: 'approve', approvedAmount: { minor: 5, currency: 'EUR' } }).ok)
  t.notOk(
    checkContract(Decision, { ...common, outcome: 'partial', approvedAmount: { minor: 5, currency: 'EUR' } }).ok,
    'partial needs requestedAmount',
  )
})

void t.test('reasons: unique, guarded, and usable in an exhaustive switch', async (t) => {
  t.equal(new Set(DECLINE_REASONS).size, DECLINE_REASONS.length)
  t.ok(isDeclineReason('card_frozen'))
  t.notOk(isDeclineReason('approved'))
  // A total function over the tuple: the compiler (and eslint's switch-exhaustiveness-check) rejects it
  // if a reason is added without a case, which is exactly what connectors rely on.
  const family = (r: DeclineReason): string => {
    switch (r) {
      case 'insufficient_funds':
      case 'limit_exceeded_transaction':
      case 'limit_exceeded_daily':
      case 'limit_exceeded_monthly':
      case 'velocity_exceeded':
        return 'spend'
      case 'card_not_active':
      case 'card_frozen':
      case 'card_blocked':
      case 'card_lost_stolen':
      case 'card_cancelled':
      case 'card_expired':
      case 'unknown_card':
        return 'card'
      case 'mcc_blocked':
      case 'country_blocked':
        return 'controls'
      case 'invalid_cvv':
      case 'invalid_pin':
      case 'pin_tries_exceeded':
      case 'invalid_cryptogram':
      case 'suspected_fraud':
        return 'security'
      case 'invalid_amount':
      case 'invalid_transaction':
      case 'duplicate':
        return 'message'
      case 'issuer_unavailable':
      case 'system_error':
        return 'system'
    }
  }
  for (const r of DECLINE_REASONS) t.type(family(r), 'string')
})

void t.test('advice and reversal carry their idempotency keys', async (t) => {
  const request = exampleAuthorizationRequest()
  const advice = {
    adviceId: 'adv1',
    source: 'processor_stand_in',
    standInReason: 'issuer_timeout',
    outcome: 'approve',
    approvedAmount: request.amounts.cardholderBilling,
    request,
    standInAt: '2026-11-22T02:40:01.510Z',
  }
  t.ok(checkContract(AuthorizationAdvice, advice).ok)
  t.notOk(checkContract(AuthorizationAdvice, { ...advice, adviceId: undefined }).ok)
  const reversal = {
    reversalId: 'rev1',
    originalAuthorizationId: request.authorizationId,
    cardId: request.cardId,
    kind: 'partial',
    replacementAmount: { minor: 500, currency: 'EUR' },
    reason: 'partial_dispense',
    advice: true,
    network: request.network,
    receivedAt: '2026-11-22T02:41:00Z',
  }
  t.ok(checkContract(ReversalRequest, reversal).ok)
})
