import { Type, type Static } from '@sinclair/typebox'

/** ISO 4217 alphabetic currency code, e.g. `EUR`. */
export const CurrencyCode = Type.String({
  pattern: '^[A-Z]{3}$',
  description: 'ISO 4217 alphabetic currency code',
  examples: ['EUR'],
})
/** ISO 4217 alphabetic currency code. */
export type CurrencyCode = Static<typeof CurrencyCode>

/** ISO 3166-1 alpha-2 country code, e.g. `DE`. Connectors convert numeric scheme codes (DE 19, DE 43). */
export const CountryCode = Type.String({
  pattern: '^[A-Z]{2}$',
  description: 'ISO 3166-1 alpha-2 country code',
  examples: ['DE'],
})
/** ISO 3166-1 alpha-2 country code. */
export type CountryCode = Static<typeof CountryCode>

/**
 * An amount of money in integer minor units of its currency (cents for EUR, yen for JPY).
 * Never a float: every service adds and compares these as integers.
 */
export const Money = Type.Object(
  {
    minor: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'amount in minor units' }),
    currency: CurrencyCode,
  },
  { additionalProperties: false },
)
/** An amount in integer minor units with its ISO 4217 currency. */
export type Money = Static<typeof Money>

/**
 * A conversion rate as a decimal string (ISO 8583 DE 9/10 carry an implied decimal position; a string keeps
 * the exact digits instead of a binary float).
 */
export const ConversionRate = Type.String({
  pattern: '^[0-9]{1,12}(\\.[0-9]{1,12})?$',
  description: 'conversion rate as an exact decimal string',
  examples: ['1.0845'],
})
/** A conversion rate as an exact decimal string. */
export type ConversionRate = Static<typeof ConversionRate>

/**
 * A card identifier issued by the card vault. Never a PAN: the schema refuses any value that is a run of
 * 12-19 digits, so a connector bug that puts the PAN here fails validation instead of leaking.
 */
export const CardId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^(?![0-9]{12,19}$)[A-Za-z0-9_:.-]+$',
  description: 'card ID from the card vault (never a PAN)',
  examples: ['card_01JD8Z7Q4W3M2K5N6P7R8S9T0V'],
})
/** Card identifier from the card vault; never a PAN. */
export type CardId = Static<typeof CardId>

/** Idempotency keys and other opaque identifiers chosen by a caller. */
export const OpaqueId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_:.-]+$' })
/** An opaque identifier (idempotency key). */
export type OpaqueId = Static<typeof OpaqueId>

/** An RFC 3339 UTC timestamp, e.g. `2026-11-22T02:39:24.123Z`. */
export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp in UTC' })
/** RFC 3339 UTC timestamp. */
export type Timestamp = Static<typeof Timestamp>
