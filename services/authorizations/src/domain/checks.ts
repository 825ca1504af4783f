import type { AuthorizationRequest, DeclineReason } from '@cardplane/contracts'
import type { CardState, CardStatus, EffectiveControls } from './card-state.js'

/**
 * The decision's checks, in the order they run. The order is deliberate:
 * 1. the message itself (amount, currency) — a malformed request says nothing about the card;
 * 2. the CDE's verification results — a failed CVV2/PIN/cryptogram means the requester may not hold the
 *    card, so nothing about the card's state or the account is revealed to it;
 * 3. card status, 4. fraud rules, 5. merchant controls (MCC, country), 6. per-transaction limit;
 * then, outside this pure part: velocity (Redis), daily/monthly limits (own DB), funds (ledger hold).
 */
export const CHECK_ORDER = [
  'message',
  'verification',
  'card_status',
  'fraud_rules',
  'merchant_controls',
  'transaction_limit',
  'velocity',
  'period_limits',
  'funds',
] as const

/** Message classes that move money and so take a hold and count against limits. */
export function movesMoney(request: Pick<AuthorizationRequest, 'messageClass'>): boolean {
  switch (request.messageClass) {
    case 'authorization':
    case 'financial':
    case 'incremental':
      return true
    case 'balance_inquiry':
    case 'account_verification':
      return false
  }
}

/** Step 1: the amount fits the message class and the card's currency. */
export function checkMessage(request: AuthorizationRequest, card: CardState): DeclineReason | undefined {
  const amount = request.amounts.cardholderBilling
  if (movesMoney(request) && amount.currency !== card.currency) return 'invalid_transaction'
  switch (request.messageClass) {
    case 'authorization':
    case 'financial':
      return amount.minor > 0 ? undefined : 'invalid_amount'
    case 'incremental':
      if (!request.originalAuthorizationId) return 'invalid_transaction'
      return amount.minor > 0 ? undefined : 'invalid_amount'
    case 'account_verification':
      return amount.minor === 0 ? undefined : 'invalid_amount'
    case 'balance_inquiry':
      return undefined
  }
}

/** Step 2: what the CDE found when it checked the card data. */
export function checkVerification(request: AuthorizationRequest): DeclineReason | undefined {
  const v = request.verification
  if (v.expiry === 'mismatch') return 'card_expired'
  if (v.arqc === 'mismatch') return 'invalid_cryptogram'
  if (v.pin === 'locked') return 'pin_tries_exceeded'
  if (v.pin === 'mismatch') return 'invalid_pin'
  // A PIN was keyed but nobody verified it: never approve on an unverified PIN.
  if (request.pos.pinEntered && v.pin !== 'match') return 'system_error'
  if (v.cvv === 'mismatch' || v.cvv2 === 'mismatch' || v.icvv === 'mismatch') return 'invalid_cvv'
  return undefined
}

/** Step 3: one reason per card state; only `active` passes. */
export function reasonForStatus(status: CardStatus): DeclineReason | undefined {
  switch (status) {
    case 'active':
      return undefined
    case 'inactive':
      return 'card_not_active'
    case 'frozen':
      return 'card_frozen'
    case 'blocked':
      return 'card_blocked'
    case 'lost':
    case 'stolen':
      return 'card_lost_stolen'
    case 'cancelled':
      return 'card_cancelled'
    case 'expired':
      return 'card_expired'
  }
}

/** Step 4: simple fraud rules. A card-not-present payment whose 3-D Secure authentication failed. */
export function checkFraudRules(request: AuthorizationRequest): DeclineReason | undefined {
  if (request.pos.ecommerce && request.pos.threeDs === 'failed') return 'suspected_fraud'
  return undefined
}

/** Step 5: merchant category and country block lists. */
export function checkMerchantControls(request: AuthorizationRequest, controls: EffectiveControls): DeclineReason | undefined {
  if (controls.blockedMccs.has(request.merchant.mcc)) return 'mcc_blocked'
  if (controls.blockedCountries.has(request.merchant.country)) return 'country_blocked'
  return undefined
}

/** Step 6: the per-transaction limit, on the cardholder billing amount. */
export function checkTransactionLimit(request: AuthorizationRequest, controls: EffectiveControls): DeclineReason | undefined {
  if (!movesMoney(request)) return undefined
  if (controls.perTransactionLimit !== undefined && request.amounts.cardholderBilling.minor > controls.perTransactionLimit) {
    return 'limit_exceeded_transaction'
  }
  return undefined
}

/** Steps 1-6, the pure ones, in order. The first failing step decides the reason. */
export function preChecks(
  request: AuthorizationRequest,
  card: CardState,
  controls: EffectiveControls,
): DeclineReason | undefined {
  return (
    checkMessage(request, card) ??
    checkVerification(request) ??
    reasonForStatus(card.status) ??
    checkFraudRules(request) ??
    checkMerchantControls(request, controls) ??
    checkTransactionLimit(request, controls)
  )
}

/** Approved spend of the card so far in the current UTC day and month (minor units, net of reversals). */
export interface PeriodUsage {
  day: number
  month: number
}

/** Step 8: the daily and monthly limits, including this request's amount. */
export function checkPeriodLimits(amount: number, usage: PeriodUsage, controls: EffectiveControls): DeclineReason | undefined {
  if (controls.dailyLimit !== undefined && usage.day + amount > controls.dailyLimit) return 'limit_exceeded_daily'
  if (controls.monthlyLimit !== undefined && usage.month + amount > controls.monthlyLimit) return 'limit_exceeded_monthly'
  return undefined
}

/** Step 7: velocity counts (this attempt included) against their rules. */
export function checkVelocity(counts: readonly { maxCount: number; count: number }[]): DeclineReason | undefined {
  return counts.some((c) => c.count > c.maxCount) ? 'velocity_exceeded' : undefined
}

/** Start of the UTC day and month containing `at`: the windows of the daily and monthly limits. */
export function periodStarts(at: Date): { day: Date; month: Date } {
  return {
    day: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())),
    month: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)),
  }
}
