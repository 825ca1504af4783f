import type { Redis } from 'ioredis'
import type { AuthorizationRequest, Decision, DeclineReason } from '@cardplane/contracts'

/**
 * Stand-in rules (config `STAND_IN_RULES`): what the processor answers when the main cluster does not
 * answer within the deadline. Default: decline `issuer_unavailable` (Visa 91). `approve` approves card
 * authenticated transactions up to per-card limits, counted in Redis per card and UTC day.
 */
export interface StandInRules {
  mode: 'decline' | 'approve'
  /** Reason for stand-in declines (default issuer_unavailable). */
  declineReason?: DeclineReason
  /** approve mode: largest single approval, in cardholder billing minor units. */
  perTransactionLimitMinor?: number
  /** approve mode: total stand-in approvals per card per UTC day, in minor units. */
  dailyLimitMinor?: number
}

/** Default stand-in rules: decline 91. */
export const DEFAULT_STAND_IN_RULES: StandInRules = { mode: 'decline', declineReason: 'issuer_unavailable' }

/** Apply the stand-in rules to a request the main cluster did not decide. */
export async function standInDecision(
  rules: StandInRules,
  request: AuthorizationRequest,
  redis: Redis,
  prefix: string,
): Promise<Decision> {
  const base = { authorizationId: request.authorizationId, source: 'processor_stand_in' as const, decidedAt: new Date().toISOString() }
  const decline = (reason: DeclineReason): Decision => ({ ...base, outcome: 'decline', reason })
  if (rules.mode === 'decline') return decline(rules.declineReason ?? 'issuer_unavailable')
  const amount = request.amounts.cardholderBilling
  if (rules.perTransactionLimitMinor === undefined || amount.minor > rules.perTransactionLimitMinor) {
    return decline(rules.declineReason ?? 'issuer_unavailable')
  }
  if (rules.dailyLimitMinor !== undefined) {
    const day = base.decidedAt.slice(0, 10)
    const key = `${prefix}standin:${request.cardId}:${day}:${amount.currency}`
    const [[, total]] = (await redis.multi().incrby(key, amount.minor).pexpire(key, 2 * 86_400_000).exec()) as [[Error | null, number]]
    if (total > rules.dailyLimitMinor) {
      await redis.decrby(key, amount.minor)
      return decline(rules.declineReason ?? 'issuer_unavailable')
    }
  }
  return { ...base, outcome: 'approve', approvedAmount: amount }
}
