/**
 * The closed list of internal decline reasons: the only language for a refusal inside Cardplane.
 * Each edge maps them once, in one exhaustive switch (Visa DE 39, Mastercard DE 39, HTTP).
 * Append only: a connector's exhaustive switch turns a new reason into a compile error, which is the point.
 */
export const DECLINE_REASONS = [
  'insufficient_funds',
  'card_not_active',
  'card_frozen',
  'card_blocked',
  'card_lost_stolen',
  'card_cancelled',
  'card_expired',
  'mcc_blocked',
  'country_blocked',
  'limit_exceeded_transaction',
  'limit_exceeded_daily',
  'limit_exceeded_monthly',
  'velocity_exceeded',
  'invalid_cvv',
  'invalid_pin',
  'pin_tries_exceeded',
  'invalid_cryptogram',
  'suspected_fraud',
  'invalid_amount',
  'invalid_transaction',
  'unknown_card',
  'issuer_unavailable',
  'system_error',
  'duplicate',
] as const

/** One internal decline reason. */
export type DeclineReason = (typeof DECLINE_REASONS)[number]

const REASON_SET: ReadonlySet<string> = new Set(DECLINE_REASONS)

/** Type guard: is `value` one of the closed list of internal reasons? */
export function isDeclineReason(value: unknown): value is DeclineReason {
  return typeof value === 'string' && REASON_SET.has(value)
}
