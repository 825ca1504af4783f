import { Type, type Static } from '@sinclair/typebox'
import { CountryCode, CurrencyCode, OpaqueId } from '@cardplane/contracts'

/** Card lifecycle states as `cards` reports them. `inactive`: issued, not yet activated. */
export const CARD_STATUSES = ['inactive', 'active', 'frozen', 'blocked', 'lost', 'stolen', 'cancelled', 'expired'] as const
/** A card's lifecycle state. */
export type CardStatus = (typeof CARD_STATUSES)[number]

/** A velocity rule: at most `maxCount` authorisations per card in a fixed window of `windowSeconds`. */
export const VelocityRule = Type.Object(
  {
    windowSeconds: Type.Integer({ minimum: 1, maximum: 31 * 24 * 3600 }),
    maxCount: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
)
/** A velocity rule. */
export type VelocityRule = Static<typeof VelocityRule>

/**
 * Spend controls, on a card or on its program. Limits are minor units of the card's currency. A program's
 * controls apply to every card of the program, combined with the card's own (block lists are joined, the
 * lower limit wins, every velocity rule applies).
 */
export const SpendControls = Type.Object(
  {
    blockedMccs: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9]{4}$' }), { maxItems: 1000 })),
    blockedCountries: Type.Optional(Type.Array(CountryCode, { maxItems: 300 })),
    perTransactionLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    dailyLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    monthlyLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    velocity: Type.Optional(Type.Array(VelocityRule, { maxItems: 10 })),
  },
  { additionalProperties: false },
)
/** Spend controls. */
export type SpendControls = Static<typeof SpendControls>

/** `PUT /v1/cards/:cardId` body: the card's authorisation state as `cards` knows it. */
export const CardStateBody = Type.Object(
  {
    accountId: OpaqueId,
    programId: OpaqueId,
    status: Type.Union(CARD_STATUSES.map((s) => Type.Literal(s))),
    currency: CurrencyCode,
    controls: Type.Optional(SpendControls),
  },
  { additionalProperties: false },
)
/** The card's authorisation state. */
export type CardStateBody = Static<typeof CardStateBody> & { status: CardStatus }

/** A card as the decision sees it. */
export interface CardState extends CardStateBody {
  cardId: string
}

/** Controls after combining card and program. */
export interface EffectiveControls {
  blockedMccs: ReadonlySet<string>
  blockedCountries: ReadonlySet<string>
  perTransactionLimit?: number
  dailyLimit?: number
  monthlyLimit?: number
  velocity: VelocityRule[]
}

function minDefined(a?: number, b?: number): number | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return Math.min(a, b)
}

/** Combine program and card controls: the stricter of the two always applies. */
export function effectiveControls(card: SpendControls | undefined, program: SpendControls | undefined): EffectiveControls {
  const c = card ?? {}
  const p = program ?? {}
  const out: EffectiveControls = {
    blockedMccs: new Set([...(p.blockedMccs ?? []), ...(c.blockedMccs ?? [])]),
    blockedCountries: new Set([...(p.blockedCountries ?? []), ...(c.blockedCountries ?? [])]),
    velocity: [...(p.velocity ?? []), ...(c.velocity ?? [])],
  }
  const per = minDefined(c.perTransactionLimit, p.perTransactionLimit)
  const day = minDefined(c.dailyLimit, p.dailyLimit)
  const month = minDefined(c.monthlyLimit, p.monthlyLimit)
  if (per !== undefined) out.perTransactionLimit = per
  if (day !== undefined) out.dailyLimit = day
  if (month !== undefined) out.monthlyLimit = month
  return out
}
