import { Type, type Static } from '@sinclair/typebox'
import { AuthorizationRequest } from './authorization-request.js'
import { literalUnion } from './enums.js'
import { DeclineReasonSchema } from './decision.js'
import { Money, OpaqueId, Timestamp } from './primitives.js'

const strict = { additionalProperties: false } as const

/** Why a stand-in decided instead of the issuer (Visa STIP reason codes 9001/9011/9020/9012, normalised). */
export const STAND_IN_REASONS = [
  'issuer_timeout',
  'issuer_unavailable',
  'issuer_signed_off',
  'line_down',
  'forced',
  'other',
] as const
/** Why a stand-in decided. */
export type StandInReason = (typeof STAND_IN_REASONS)[number]

/**
 * An advice: a decision already given to the scheme by a stand-in (the processor's, after the deadline, or
 * the scheme's STIP, 0120). The issuer must post it — never decline it — and reconcile it with any decision
 * it took meanwhile for the same `request.authorizationId` (one hold at most).
 */
export const AuthorizationAdvice = Type.Object(
  {
    /** Idempotency key of the advice itself (repeats, e.g. 0121, carry the same id). */
    adviceId: OpaqueId,
    source: literalUnion(['processor_stand_in', 'scheme_stand_in'] as const, 'who stood in'),
    standInReason: literalUnion(STAND_IN_REASONS, 'why the stand-in decided'),
    outcome: literalUnion(['approve', 'partial', 'decline'] as const, 'what the stand-in answered'),
    /** Approved amount in the cardholder billing currency (approve/partial). */
    approvedAmount: Type.Optional(Money),
    /** The stand-in's decline reason (decline). */
    reason: Type.Optional(DeclineReasonSchema),
    /** The original request, as the stand-in saw it. */
    request: AuthorizationRequest,
    standInAt: Timestamp,
  },
  { ...strict, title: 'AuthorizationAdvice' },
)
/** An advice of a stand-in decision. */
export type AuthorizationAdvice = Static<typeof AuthorizationAdvice>

/** What the issuer did with an advice. */
export const ADVICE_STATUSES = [
  /** Hold placed for the stand-in approval (possibly over limits or balance). */
  'posted',
  /** A decline was recorded; nothing to hold (and any hold taken meanwhile by a late decision was released). */
  'recorded',
  /** An issuer decision existed; it was brought in line with the stand-in answer (hold kept, resized or released). */
  'reconciled',
] as const
/** What the issuer did with an advice. */
export type AdviceStatus = (typeof ADVICE_STATUSES)[number]

/** Answer to an advice (`POST /v1/advices`). Repeats of the same adviceId get the same answer. */
export const AdviceResult = Type.Object(
  {
    adviceId: OpaqueId,
    authorizationId: OpaqueId,
    status: literalUnion(ADVICE_STATUSES, 'what was done'),
    /** The amount now held for this authorisation (zero when declined). */
    heldAmount: Money,
    holdId: Type.Optional(OpaqueId),
    /** The issuer's own earlier decision, when one existed (late decision reconciled). */
    issuerOutcome: Type.Optional(literalUnion(['approve', 'partial', 'decline'] as const, 'issuer decision')),
  },
  { ...strict, title: 'AdviceResult' },
)
/** Answer to an advice. */
export type AdviceResult = Static<typeof AdviceResult>
