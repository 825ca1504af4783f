import { Type, type Static } from '@sinclair/typebox'
import {
  DecisionMessageClassSchema,
  EntryModeSchema,
  InitiatorSchema,
  SchemeSchema,
  TerminalTypeSchema,
  ThreeDsResultSchema,
  VerificationResultSchema,
} from './enums.js'
import { CardId, ConversionRate, CountryCode, Money, OpaqueId, Timestamp } from './primitives.js'

const strict = { additionalProperties: false } as const

/**
 * The amounts of a transaction (ISO 8583 DE 4/5/6 with DE 49/50/51 and rates DE 9/10).
 * `cardholderBilling` is in the card account's currency and is what the ledger holds; connectors fill it
 * from `transaction` when no conversion took place.
 */
export const Amounts = Type.Object(
  {
    transaction: Money,
    cardholderBilling: Money,
    cardholderBillingRate: Type.Optional(ConversionRate),
    settlement: Type.Optional(Money),
    settlementRate: Type.Optional(ConversionRate),
    /** Cash-back or cash-disbursement part of the transaction amount, in the transaction currency. */
    cash: Type.Optional(Money),
  },
  strict,
)
/** Transaction, cardholder billing and settlement amounts. */
export type Amounts = Static<typeof Amounts>

/** The card acceptor (DE 18, 41, 42, 43, 19, 61 postal code). */
export const Merchant = Type.Object(
  {
    /** ISO 18245 merchant category code (DE 18), four digits. */
    mcc: Type.String({ pattern: '^[0-9]{4}$' }),
    /** Card acceptor id (DE 42). */
    acceptorId: Type.Optional(Type.String({ maxLength: 32 })),
    /** Card acceptor terminal id (DE 41). */
    terminalId: Type.Optional(Type.String({ maxLength: 16 })),
    name: Type.Optional(Type.String({ maxLength: 64 })),
    city: Type.Optional(Type.String({ maxLength: 32 })),
    country: CountryCode,
    postalCode: Type.Optional(Type.String({ maxLength: 16 })),
  },
  strict,
)
/** The card acceptor. */
export type Merchant = Static<typeof Merchant>

/** Point-of-service data (DE 22, 25, 60/61, 3-D Secure indicators), normalised across schemes. */
export const PosData = Type.Object(
  {
    entryMode: EntryModeSchema,
    cardPresent: Type.Boolean(),
    cardholderPresent: Type.Boolean(),
    pinEntered: Type.Boolean(),
    ecommerce: Type.Boolean(),
    threeDs: Type.Optional(ThreeDsResultSchema),
    /** Electronic commerce indicator as sent by the scheme (ECI / SLI), for rules and disputes. */
    eci: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
    terminalType: TerminalTypeSchema,
    initiator: InitiatorSchema,
  },
  strict,
)
/** Point-of-service data. */
export type PosData = Static<typeof PosData>

/** Network identifiers; together they identify the message for duplicates, reversals and clearing. */
export const NetworkIds = Type.Object(
  {
    scheme: SchemeSchema,
    /** Visa 62.2 transaction identifier / Mastercard trace id (DE 63 + DE 15). Kept for reversals and clearing. */
    schemeTransactionId: Type.Optional(Type.String({ maxLength: 32 })),
    /** The scheme transaction id of the original, for incrementals, advices and reversals. */
    originalSchemeTransactionId: Type.Optional(Type.String({ maxLength: 32 })),
    /** System trace audit number (DE 11). */
    stan: Type.String({ pattern: '^[0-9]{6}$' }),
    /** Retrieval reference number (DE 37). */
    rrn: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9 ]{12}$' })),
    /** Transmission date and time (DE 7), completed with the year by the connector, in UTC. */
    transmissionTime: Timestamp,
    /** Acquiring institution id (DE 32). */
    acquirerId: Type.String({ pattern: '^[0-9]{1,11}$' }),
    /** Forwarding institution id (DE 33). */
    forwardingId: Type.Optional(Type.String({ pattern: '^[0-9]{1,11}$' })),
  },
  strict,
)
/** Network identifiers. */
export type NetworkIds = Static<typeof NetworkIds>

/** Results of the card checks done in the CDE (card vault + key service). Never the values themselves. */
export const VerificationResults = Type.Object(
  {
    cvv: VerificationResultSchema,
    cvv2: VerificationResultSchema,
    icvv: VerificationResultSchema,
    pin: VerificationResultSchema,
    arqc: VerificationResultSchema,
    expiry: VerificationResultSchema,
  },
  strict,
)
/** Results of the card checks done in the CDE. */
export type VerificationResults = Static<typeof VerificationResults>

/**
 * The unified, scheme-neutral decision request (`POST /v1/decisions` on `authorizations`), sent by the
 * processor through the internal proxy. Carries a card ID, never a PAN or sensitive authentication data.
 */
export const AuthorizationRequest = Type.Object(
  {
    /**
     * Idempotency key chosen by the processor, stable across retransmissions of the same message. The same
     * id always yields the same decision and at most one hold.
     */
    authorizationId: OpaqueId,
    messageClass: DecisionMessageClassSchema,
    /** For `incremental`: the authorisation whose hold grows. */
    originalAuthorizationId: Type.Optional(OpaqueId),
    cardId: CardId,
    lastFour: Type.String({ pattern: '^[0-9]{4}$' }),
    programId: Type.Optional(OpaqueId),
    amounts: Amounts,
    /** The acquirer accepts an approval for less than the requested amount (DE 39 10). */
    partialApprovalCapable: Type.Boolean(),
    merchant: Merchant,
    pos: PosData,
    network: NetworkIds,
    verification: VerificationResults,
    /** When the processor received the message (UTC). */
    receivedAt: Timestamp,
  },
  { ...strict, title: 'AuthorizationRequest' },
)
/** The unified, scheme-neutral decision request. */
export type AuthorizationRequest = Static<typeof AuthorizationRequest>
