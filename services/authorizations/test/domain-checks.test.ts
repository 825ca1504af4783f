import t from 'tap'
import { exampleAuthorizationRequest, type AuthorizationRequest, type DeclineReason } from '@cardplane/contracts'
import { effectiveControls, type CardState, type CardStatus } from '../src/domain/card-state.js'
import {
  checkPeriodLimits,
  checkVelocity,
  periodStarts,
  preChecks,
  reasonForStatus,
} from '../src/domain/checks.js'
import { planHoldAdjustment, planReversal } from '../src/domain/reconcile.js'

const card = (over: Partial<CardState> = {}): CardState => ({
  cardId: 'card_1',
  accountId: 'acc_1',
  programId: 'prog_1',
  status: 'active',
  currency: 'EUR',
  ...over,
})
const none = effectiveControls(undefined, undefined)
const req = (over: Partial<AuthorizationRequest> = {}) => exampleAuthorizationRequest(over)
const base = req()
const withVerification = (v: Partial<AuthorizationRequest['verification']>, pos: Partial<AuthorizationRequest['pos']> = {}) =>
  req({ verification: { ...base.verification, ...v }, pos: { ...base.pos, ...pos } })

void t.test('a clean request on an active card passes the pure checks', async (t) => {
  t.equal(preChecks(base, card(), none), undefined)
})

void t.test('every card status maps to one reason', async (t) => {
  const expected: Record<CardStatus, DeclineReason | undefined> = {
    active: undefined,
    inactive: 'card_not_active',
    frozen: 'card_frozen',
    blocked: 'card_blocked',
    lost: 'card_lost_stolen',
    stolen: 'card_lost_stolen',
    cancelled: 'card_cancelled',
    expired: 'card_expired',
  }
  for (const [status, reason] of Object.entries(expected) as [CardStatus, DeclineReason | undefined][]) {
    t.equal(reasonForStatus(status), reason, status)
    t.equal(preChecks(base, card({ status }), none), reason, `preChecks ${status}`)
  }
})

void t.test('verification results', async (t) => {
  const cases: [AuthorizationRequest, DeclineReason][] = [
    [withVerification({ cvv2: 'mismatch' }), 'invalid_cvv'],
    [withVerification({ cvv: 'mismatch' }), 'invalid_cvv'],
    [withVerification({ icvv: 'mismatch' }), 'invalid_cvv'],
    [withVerification({ pin: 'mismatch' }, { pinEntered: true }), 'invalid_pin'],
    [withVerification({ pin: 'locked' }, { pinEntered: true }), 'pin_tries_exceeded'],
    [withVerification({ pin: 'not_checked' }, { pinEntered: true }), 'system_error'],
    [withVerification({ arqc: 'mismatch' }), 'invalid_cryptogram'],
    [withVerification({ expiry: 'mismatch' }), 'card_expired'],
  ]
  for (const [r, reason] of cases) t.equal(preChecks(r, card(), none), reason, reason)
  t.equal(preChecks(withVerification({ pin: 'match' }, { pinEntered: true }), card(), none), undefined)
})

void t.test('order: a bad CVV2 on a frozen card says invalid_cvv, not card_frozen', async (t) => {
  t.equal(preChecks(withVerification({ cvv2: 'mismatch' }), card({ status: 'frozen' }), none), 'invalid_cvv')
  t.equal(
    preChecks(req({ amounts: { ...base.amounts, cardholderBilling: { minor: 0, currency: 'EUR' } } }), card({ status: 'frozen' }), none),
    'invalid_amount',
    'message errors come first',
  )
})

void t.test('message checks: amounts per class, currency, incremental needs an original', async (t) => {
  const zero = { ...base.amounts, cardholderBilling: { minor: 0, currency: 'EUR' } }
  t.equal(preChecks(req({ amounts: zero }), card(), none), 'invalid_amount')
  t.equal(preChecks(req({ messageClass: 'account_verification', amounts: zero }), card(), none), undefined)
  t.equal(preChecks(req({ messageClass: 'account_verification' }), card(), none), 'invalid_amount')
  t.equal(preChecks(req({ messageClass: 'balance_inquiry', amounts: zero }), card(), none), undefined)
  t.equal(preChecks(req({ messageClass: 'incremental' }), card(), none), 'invalid_transaction')
  t.equal(preChecks(req({ messageClass: 'incremental', originalAuthorizationId: 'a0' }), card(), none), undefined)
  t.equal(preChecks(base, card({ currency: 'USD' }), none), 'invalid_transaction')
})

void t.test('fraud rule: e-commerce with failed 3-D Secure', async (t) => {
  t.equal(preChecks(req({ pos: { ...base.pos, threeDs: 'failed' } }), card(), none), 'suspected_fraud')
})

void t.test('merchant controls and per-transaction limit; program and card combine strictly', async (t) => {
  const controls = effectiveControls(
    { blockedMccs: ['7995'], perTransactionLimit: 5_000 },
    { blockedCountries: ['KP'], perTransactionLimit: 1_000, velocity: [{ windowSeconds: 60, maxCount: 3 }] },
  )
  t.equal(controls.perTransactionLimit, 1_000, 'the lower limit wins')
  t.equal(controls.velocity.length, 1)
  t.equal(preChecks(req({ merchant: { ...base.merchant, mcc: '7995' } }), card(), controls), 'mcc_blocked')
  t.equal(preChecks(req({ merchant: { ...base.merchant, country: 'KP' } }), card(), controls), 'country_blocked')
  const big = { ...base.amounts, cardholderBilling: { minor: 1_001, currency: 'EUR' } }
  t.equal(preChecks(req({ amounts: big }), card(), controls), 'limit_exceeded_transaction')
  const exact = { ...base.amounts, cardholderBilling: { minor: 1_000, currency: 'EUR' } }
  t.equal(preChecks(req({ amounts: exact }), card(), controls), undefined, 'the limit itself is allowed')
})

void t.test('period limits include the current amount; daily before monthly', async (t) => {
  const c = effectiveControls({ dailyLimit: 1_000, monthlyLimit: 5_000 }, undefined)
  t.equal(checkPeriodLimits(400, { day: 600, month: 600 }, c), undefined)
  t.equal(checkPeriodLimits(401, { day: 600, month: 600 }, c), 'limit_exceeded_daily')
  t.equal(checkPeriodLimits(100, { day: 0, month: 4_901 }, c), 'limit_exceeded_monthly')
  t.equal(checkPeriodLimits(2_000, { day: 0, month: 4_000 }, c), 'limit_exceeded_daily')
})

void t.test('velocity counts include this attempt', async (t) => {
  t.equal(checkVelocity([{ maxCount: 3, count: 3 }]), undefined)
  t.equal(checkVelocity([{ maxCount: 3, count: 4 }]), 'velocity_exceeded')
  t.equal(checkVelocity([]), undefined)
})

void t.test('UTC period starts', async (t) => {
  const p = periodStarts(new Date('2026-11-22T23:59:59.999Z'))
  t.equal(p.day.toISOString(), '2026-11-22T00:00:00.000Z')
  t.equal(p.month.toISOString(), '2026-11-01T00:00:00.000Z')
})

void t.test('hold adjustment towards the stand-in answer', async (t) => {
  t.same(planHoldAdjustment(0, false, 500), { kind: 'place', amount: 500 })
  t.same(planHoldAdjustment(0, false, 0), { kind: 'none' })
  t.same(planHoldAdjustment(500, true, 0), { kind: 'release', amount: 500 })
  t.same(planHoldAdjustment(500, true, 800), { kind: 'increase', amount: 300 })
  t.same(planHoldAdjustment(500, true, 200), { kind: 'release', amount: 300 })
  t.same(planHoldAdjustment(500, true, 500), { kind: 'none' })
})

void t.test('reversal amounts', async (t) => {
  t.equal(planReversal(500, 'full'), 500)
  t.equal(planReversal(500, 'partial', 200), 300)
  t.equal(planReversal(200, 'partial', 300), 0, 'a replacement above what is held releases nothing')
})

void t.test('derived idempotency keys stay within 128 characters and are deterministic', async (t) => {
  const { derivedKey } = await import('../src/domain/keys.js')
  t.equal(derivedKey('auth_1', 'release'), 'auth_1:release')
  const long = 'a'.repeat(120)
  const k = derivedKey(long, 'advice:adv_123456789')
  t.ok(k.length <= 128)
  t.equal(derivedKey(long, 'advice:adv_123456789'), k)
  t.not(derivedKey(long, 'advice:adv_123456780'), k)
  t.match(k, /^[A-Za-z0-9_:.-]+$/)
})
