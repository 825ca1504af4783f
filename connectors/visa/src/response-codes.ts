import type { Decision, DeclineReason, ReversalReason } from '@cardplane/contracts'

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
  /** Reversal response: the original could not be found (0410 only). */
  unableToLocateOriginal: '25',
} as const

/**
 * DE 39 values met only inbound, in reversals (why the acquirer or V.I.P. reversed) and in STIP advices
 * (what Visa answered). Commonly cited ISO 8583:1987 meanings; check against the BASE I spec.
 */
export const VISA_INBOUND_DE39 = {
  error: '06',
  customerCancellation: '17',
  noActionTaken: '21',
  suspectedMalfunction: '22',
  completedPartially: '32',
  responseReceivedTooLate: '68',
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

/** What a stand-in (Visa STIP, 0120) answered, from its DE 39. */
export type StandInOutcome = { outcome: 'approve' } | { outcome: 'partial' } | { outcome: 'decline'; reason: DeclineReason }

function isVisaResponseCode(code: string): code is VisaResponseCode {
  return (Object.values(VISA_DE39) as string[]).includes(code)
}

/**
 * The inverse of `visaResponseCodeFor`, for advices of Visa's stand-in decisions (0120 DE 39): what the
 * scheme answered, in internal terms. Exhaustive over the codes this connector knows (no default branch: a
 * code added to `VISA_DE39` must be placed here). Where several reasons share a code the first reason of
 * the forward switch is taken (62 → card_not_active, 57 → mcc_blocked, 61 → limit_exceeded_transaction), so
 * `visaResponseCodeFor(inverse(code)) === code` for every decline code. Codes outside the table (05 do not
 * honour, 04/07 pick up, …) have no internal equivalent and become `invalid_transaction`; 85 (no reason to
 * decline) is an approval; 30 and 25 are never a stand-in answer and are read as `system_error`.
 */
export function standInOutcomeOf(de39: string): StandInOutcome {
  if (!isVisaResponseCode(de39)) return { outcome: 'decline', reason: 'invalid_transaction' }
  const decline = (reason: DeclineReason): StandInOutcome => ({ outcome: 'decline', reason })
  switch (de39) {
    case VISA_DE39.approved:
    case VISA_DE39.noReasonToDecline:
      return { outcome: 'approve' }
    case VISA_DE39.partialApproval:
      return { outcome: 'partial' }
    case VISA_DE39.doNotHonour:
      return decline('invalid_transaction')
    case VISA_DE39.invalidTransaction:
      return decline('invalid_transaction')
    case VISA_DE39.invalidAmount:
      return decline('invalid_amount')
    case VISA_DE39.invalidCardNumber:
      return decline('unknown_card')
    case VISA_DE39.formatError:
      return decline('system_error')
    case VISA_DE39.unableToLocateOriginal:
      return decline('system_error')
    case VISA_DE39.lostCard:
    case VISA_DE39.stolenCard:
      return decline('card_lost_stolen')
    case VISA_DE39.closedAccount:
      return decline('card_cancelled')
    case VISA_DE39.insufficientFunds:
      return decline('insufficient_funds')
    case VISA_DE39.expiredCard:
      return decline('card_expired')
    case VISA_DE39.incorrectPin:
      return decline('invalid_pin')
    case VISA_DE39.notPermittedToCardholder:
      return decline('mcc_blocked')
    case VISA_DE39.exceedsAmountLimit:
      return decline('limit_exceeded_transaction')
    case VISA_DE39.restrictedCard:
      return decline('card_not_active')
    case VISA_DE39.exceedsFrequencyLimit:
      return decline('velocity_exceeded')
    case VISA_DE39.pinTriesExceeded:
      return decline('pin_tries_exceeded')
    case VISA_DE39.cvvFailure:
      return decline('invalid_cvv')
    case VISA_DE39.cryptogramFailure:
      return decline('invalid_cryptogram')
    case VISA_DE39.issuerUnavailable:
      return decline('issuer_unavailable')
    case VISA_DE39.duplicateTransmission:
      return decline('duplicate')
    case VISA_DE39.systemMalfunction:
      return decline('system_error')
    case VISA_DE39.suspectedFraud:
      return decline('suspected_fraud')
  }
}

/**
 * Why a reversal was sent, from the reversal's own DE 39 (absent → `other`). Commonly cited ISO meanings:
 * 17 customer cancellation, 68 response received too late (the acquirer or V.I.P. timed out waiting for
 * the issuer), 32 completed partially (partial dispense), 06/22/96 errors. Check against the BASE I spec;
 * Visa also carries a message reason code in DE 63.3 (e.g. 2501-2504) that is not read yet.
 */
export function reversalReasonOf(de39: string | undefined): ReversalReason {
  switch (de39) {
    case VISA_INBOUND_DE39.customerCancellation:
      return 'customer_cancellation'
    case VISA_INBOUND_DE39.responseReceivedTooLate:
      return 'late_response'
    case VISA_INBOUND_DE39.completedPartially:
      return 'partial_dispense'
    case VISA_INBOUND_DE39.error:
    case VISA_INBOUND_DE39.suspectedMalfunction:
    case VISA_DE39.systemMalfunction:
      return 'system_error'
    case VISA_DE39.issuerUnavailable:
      return 'timeout'
    default:
      return 'other'
  }
}
