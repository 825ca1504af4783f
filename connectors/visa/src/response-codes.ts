import type { Decision, DeclineReason } from '@cardplane/contracts'

/**
 * Visa DE 39 response codes used by this connector (ISO 8583:1987 values as Visa uses them; check against
 * the current BASE I Technical Specifications before certification).
 */
export const VISA_DE39 = {
  approved: '00',
  doNotHonour: '05',
  partialApproval: '10',
  invalidTransaction: '12',
  invalidAmount: '13',
  invalidCardNumber: '14',
  formatError: '30',
  lostCard: '41',
  stolenCard: '43',
  closedAccount: '46',
  insufficientFunds: '51',
  expiredCard: '54',
  incorrectPin: '55',
  notPermittedToCardholder: '57',
  exceedsAmountLimit: '61',
  restrictedCard: '62',
  exceedsFrequencyLimit: '65',
  pinTriesExceeded: '75',
  cvvFailure: 'N7',
  cryptogramFailure: '82',
  noReasonToDecline: '85',
  issuerUnavailable: '91',
  duplicateTransmission: '94',
  systemMalfunction: '96',
  suspectedFraud: '59',
} as const

/** One DE 39 value this connector emits. */
export type VisaResponseCode = (typeof VISA_DE39)[keyof typeof VISA_DE39]

/**
 * The ONE place where internal decline reasons become Visa DE 39. Exhaustive by construction: adding a
 * reason to `DECLINE_REASONS` makes this function fail to compile (no default branch, return type checked)
 * and trips the `switch-exhaustiveness-check` lint rule.
 */
export function visaResponseCodeFor(reason: DeclineReason): VisaResponseCode {
  switch (reason) {
    case 'insufficient_funds':
      return VISA_DE39.insufficientFunds
    case 'card_not_active':
      return VISA_DE39.restrictedCard
    case 'card_frozen':
      return VISA_DE39.restrictedCard
    case 'card_blocked':
      return VISA_DE39.restrictedCard
    case 'card_lost_stolen':
      return VISA_DE39.lostCard
    case 'card_cancelled':
      return VISA_DE39.closedAccount
    case 'card_expired':
      return VISA_DE39.expiredCard
    case 'mcc_blocked':
      return VISA_DE39.notPermittedToCardholder
    case 'country_blocked':
      return VISA_DE39.notPermittedToCardholder
    case 'limit_exceeded_transaction':
      return VISA_DE39.exceedsAmountLimit
    case 'limit_exceeded_daily':
      return VISA_DE39.exceedsAmountLimit
    case 'limit_exceeded_monthly':
      return VISA_DE39.exceedsAmountLimit
    case 'velocity_exceeded':
      return VISA_DE39.exceedsFrequencyLimit
    case 'invalid_cvv':
      return VISA_DE39.cvvFailure
    case 'invalid_pin':
      return VISA_DE39.incorrectPin
    case 'pin_tries_exceeded':
      return VISA_DE39.pinTriesExceeded
    case 'invalid_cryptogram':
      return VISA_DE39.cryptogramFailure
    case 'suspected_fraud':
      return VISA_DE39.suspectedFraud
    case 'invalid_amount':
      return VISA_DE39.invalidAmount
    case 'invalid_transaction':
      return VISA_DE39.invalidTransaction
    case 'unknown_card':
      return VISA_DE39.invalidCardNumber
    case 'issuer_unavailable':
      return VISA_DE39.issuerUnavailable
    case 'system_error':
      return VISA_DE39.systemMalfunction
    case 'duplicate':
      return VISA_DE39.duplicateTransmission
  }
}

/**
 * DE 39 for a whole decision: 00 for a full approval (85 for a zero-amount account verification),
 * 10 for a partial approval, the mapped reason for a decline.
 */
export function visaResponseCodeForDecision(decision: Decision, accountVerification = false): VisaResponseCode {
  switch (decision.outcome) {
    case 'approve':
      return accountVerification ? VISA_DE39.noReasonToDecline : VISA_DE39.approved
    case 'partial':
      return VISA_DE39.partialApproval
    case 'decline':
      return visaResponseCodeFor(decision.reason)
  }
}
