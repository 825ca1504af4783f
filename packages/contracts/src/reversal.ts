import { Type, type Static } from '@sinclair/typebox'
import { NetworkIds } from './authorization-request.js'
import { literalUnion } from './enums.js'
import { CardId, Money, OpaqueId, Timestamp } from './primitives.js'

const strict = { additionalProperties: false } as const

/** Why the acquirer or the network reversed. */
export const REVERSAL_REASONS = ['customer_cancellation', 'timeout', 'late_response', 'partial_dispense', 'system_error', 'other'] as const
/** Why the acquirer or the network reversed. */
export type ReversalReason = (typeof REVERSAL_REASONS)[number]

/**
 * A reversal (0400 request or 0420 advice): full, or partial with the replacement amount (DE 95) — the
 * amount that remains authorised, in the cardholder billing currency.
 */
export const ReversalRequest = Type.Object(
  {
    /** Idempotency key of the reversal (repeats, e.g. 0421, carry the same id). */
    reversalId: OpaqueId,
    /** The authorisation being reversed (its `authorizationId`). */
    originalAuthorizationId: OpaqueId,
    cardId: CardId,
    kind: literalUnion(['full', 'partial'] as const, 'full or partial reversal'),
    /** Partial reversals: the amount that stays authorised (DE 95), cardholder billing currency. */
    replacementAmount: Type.Optional(Money),
    reason: literalUnion(REVERSAL_REASONS, 'why'),
    /** An advice (0420) must be accepted; a request (0400) may be answered with not-found. */
    advice: Type.Boolean(),
    network: NetworkIds,
    receivedAt: Timestamp,
  },
  { ...strict, title: 'ReversalRequest' },
)
/** A reversal. */
export type ReversalRequest = Static<typeof ReversalRequest>

/** What a reversal did. */
export const REVERSAL_STATUSES = [
  'reversed',
  'partially_reversed',
  /** The original was already fully reversed; nothing more to release. */
  'already_reversed',
  /** No such authorisation (or it was declined): nothing to release, acknowledged so the network stops retrying. */
  'original_not_found',
] as const
/** What a reversal did. */
export type ReversalStatus = (typeof REVERSAL_STATUSES)[number]

/** Answer to a reversal (`POST /v1/reversals`). */
export const ReversalResult = Type.Object(
  {
    reversalId: OpaqueId,
    originalAuthorizationId: OpaqueId,
    status: literalUnion(REVERSAL_STATUSES, 'what was done'),
    /** Released by this reversal. */
    releasedAmount: Type.Optional(Money),
    /** Still held for the original afterwards. */
    remainingAmount: Type.Optional(Money),
  },
  { ...strict, title: 'ReversalResult' },
)
/** Answer to a reversal. */
export type ReversalResult = Static<typeof ReversalResult>
