import { Type, type Static } from '@sinclair/typebox'
import { literalUnion } from './enums.js'
import { Money, OpaqueId, Timestamp } from './primitives.js'
import { DECLINE_REASONS } from './reasons.js'

const strict = { additionalProperties: false } as const

/** Schema for one internal decline reason (the closed list `DECLINE_REASONS`). */
export const DeclineReasonSchema = literalUnion(DECLINE_REASONS, 'internal decline reason')

/** Where a decision came from: the main cluster, the processor's stand-in, or the scheme's stand-in (STIP). */
export const DECISION_SOURCES = ['issuer', 'processor_stand_in', 'scheme_stand_in'] as const
/** Where a decision came from. */
export type DecisionSource = (typeof DECISION_SOURCES)[number]
/** Schema for the decision source. */
export const DecisionSourceSchema = literalUnion(DECISION_SOURCES, 'who took the decision')

const common = {
  authorizationId: OpaqueId,
  source: DecisionSourceSchema,
  decidedAt: Timestamp,
  /** Available balance after the decision, in the account currency (balance inquiries, partial approvals). */
  availableBalance: Type.Optional(Money),
  /** The ledger hold backing an approval (absent for zero-amount and balance-inquiry approvals). */
  holdId: Type.Optional(OpaqueId),
}

/** Approved for the full cardholder billing amount. */
export const ApproveDecision = Type.Object(
  { outcome: Type.Literal('approve'), approvedAmount: Money, ...common },
  { ...strict, title: 'ApproveDecision' },
)
/** Approved for less than requested (only when the request was partial-approval capable). */
export const PartialDecision = Type.Object(
  { outcome: Type.Literal('partial'), approvedAmount: Money, requestedAmount: Money, ...common },
  { ...strict, title: 'PartialDecision' },
)
/** Declined with exactly one internal reason. */
export const DeclineDecision = Type.Object(
  { outcome: Type.Literal('decline'), reason: DeclineReasonSchema, ...common },
  { ...strict, title: 'DeclineDecision' },
)

/** The answer to a decision request: approve, partial (approved amount) or decline (one reason). */
export const Decision = Type.Union([ApproveDecision, PartialDecision, DeclineDecision], { title: 'Decision' })
/** The answer to a decision request. */
export type Decision = Static<typeof Decision>
/** A full approval. */
export type ApproveDecision = Static<typeof ApproveDecision>
/** A partial approval. */
export type PartialDecision = Static<typeof PartialDecision>
/** A decline. */
export type DeclineDecision = Static<typeof DeclineDecision>
