import { Type, type Static } from '@sinclair/typebox'
import { CurrencyCode, Money, OpaqueId } from '@cardplane/contracts'

/** A positive amount (holds, credits, captures move something). */
export const PositiveMoney = Type.Object(
  { minor: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), currency: CurrencyCode },
  { additionalProperties: false },
)

export const AccountParams = Type.Object({ accountId: OpaqueId })
export type AccountParams = Static<typeof AccountParams>
export const HoldParams = Type.Object({ holdId: OpaqueId })
export type HoldParams = Static<typeof HoldParams>

export const HoldQuery = Type.Object({ authorizationId: OpaqueId })
export type HoldQuery = Static<typeof HoldQuery>

export const CreateAccountBody = Type.Object(
  { id: Type.Optional(OpaqueId), currency: CurrencyCode },
  { additionalProperties: false },
)
export type CreateAccountBody = Static<typeof CreateAccountBody>

export const CreditBody = Type.Object({ idempotencyKey: OpaqueId, amount: PositiveMoney }, { additionalProperties: false })
export type CreditBody = Static<typeof CreditBody>

export const PlaceHoldBody = Type.Object(
  {
    authorizationId: OpaqueId,
    accountId: OpaqueId,
    amount: PositiveMoney,
    allowPartial: Type.Optional(Type.Boolean()),
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)
export type PlaceHoldBody = Static<typeof PlaceHoldBody>

/** Most holds in one `POST /v1/holds/batch` (the authorizations service's decision batch is smaller). */
export const MAX_HOLDS_PER_BATCH = 64

export const PlaceHoldsBody = Type.Object(
  { holds: Type.Array(PlaceHoldBody, { minItems: 1, maxItems: MAX_HOLDS_PER_BATCH }) },
  { additionalProperties: false },
)
export type PlaceHoldsBody = Static<typeof PlaceHoldsBody>

export const IncrementBody = Type.Object(
  { incrementId: OpaqueId, amount: PositiveMoney, allowPartial: Type.Optional(Type.Boolean()), force: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
)
export type IncrementBody = Static<typeof IncrementBody>

export const ReleaseBody = Type.Object(
  { releaseId: OpaqueId, amount: Type.Optional(Money) },
  { additionalProperties: false },
)
export type ReleaseBody = Static<typeof ReleaseBody>

export const CaptureBody = Type.Object(
  { captureId: OpaqueId, amount: PositiveMoney, final: Type.Boolean() },
  { additionalProperties: false },
)
export type CaptureBody = Static<typeof CaptureBody>
