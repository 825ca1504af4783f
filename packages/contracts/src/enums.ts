import { Type, type TLiteral, type TUnion } from '@sinclair/typebox'

/** Build a string-literal union schema from a const tuple (keeps the tuple usable for exhaustive switches). */
export function literalUnion<const T extends readonly [string, ...string[]]>(
  values: T,
  description: string,
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  ) as TUnion<TLiteral<T[number]>[]>
}

/**
 * Message classes, after jPOS CMF: scheme-neutral, independent of the MTI that carried them.
 * `authorization` (dual message, 0100), `financial` (single message, 0200), `incremental` (adds to an
 * earlier authorisation's hold), `balance_inquiry`, `account_verification` (zero amount), `advice` (a
 * decision already taken by stand-in, 0120), `reversal` (0400/0420).
 */
export const MESSAGE_CLASSES = [
  'authorization',
  'financial',
  'advice',
  'reversal',
  'incremental',
  'balance_inquiry',
  'account_verification',
] as const
/** Any message class. */
export type MessageClass = (typeof MESSAGE_CLASSES)[number]
/** Schema for any message class. */
export const MessageClassSchema = literalUnion(MESSAGE_CLASSES, 'scheme-neutral message class')

/** Message classes that ask the issuer for a decision (`POST /v1/decisions`). */
export const DECISION_MESSAGE_CLASSES = [
  'authorization',
  'financial',
  'incremental',
  'balance_inquiry',
  'account_verification',
] as const
/** Message class of a decision request. */
export type DecisionMessageClass = (typeof DECISION_MESSAGE_CLASSES)[number]
/** Schema for a decision request's message class. */
export const DecisionMessageClassSchema = literalUnion(DECISION_MESSAGE_CLASSES, 'message class needing a decision')

/**
 * Result of one card verification done in the CDE. `locked`: the check could not be done because its try
 * counter is exhausted (PIN tries exceeded). `not_present`: the message did not carry the value.
 * `not_checked`: present but not verified (e.g. key unavailable).
 */
export const VERIFICATION_RESULTS = ['match', 'mismatch', 'not_present', 'not_checked', 'locked'] as const
/** One verification result. */
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number]
/** Schema for one verification result. */
export const VerificationResultSchema = literalUnion(VERIFICATION_RESULTS, 'result of one card verification')

/** Card schemes. */
export const SCHEMES = ['visa', 'mastercard'] as const
/** A card scheme. */
export type Scheme = (typeof SCHEMES)[number]
/** Schema for a card scheme. */
export const SchemeSchema = literalUnion(SCHEMES, 'card scheme')

/** How the PAN entered the terminal (Mastercard DE 22 pos 1-2, Visa DE 22 pos 1-2, normalised). */
export const ENTRY_MODES = [
  'unknown',
  'manual',
  'magstripe',
  'magstripe_full',
  'chip',
  'contactless_chip',
  'contactless_magstripe',
  'fallback_magstripe',
  'ecommerce',
  'credential_on_file',
] as const
/** PAN entry mode. */
export type EntryMode = (typeof ENTRY_MODES)[number]
/** Schema for the PAN entry mode. */
export const EntryModeSchema = literalUnion(ENTRY_MODES, 'PAN entry mode')

/** Kind of terminal. */
export const TERMINAL_TYPES = ['unknown', 'pos', 'atm', 'unattended', 'ecommerce', 'mobile', 'mail_telephone'] as const
/** Kind of terminal. */
export type TerminalType = (typeof TERMINAL_TYPES)[number]
/** Schema for the kind of terminal. */
export const TerminalTypeSchema = literalUnion(TERMINAL_TYPES, 'terminal type')

/** Who started the transaction: the cardholder, or the merchant (recurring, instalment, unscheduled COF). */
export const INITIATORS = ['cardholder', 'merchant'] as const
/** Transaction initiator. */
export type Initiator = (typeof INITIATORS)[number]
/** Schema for the transaction initiator. */
export const InitiatorSchema = literalUnion(INITIATORS, 'transaction initiator')

/** 3-D Secure outcome as reported by the scheme (ECI / UCAF collection indicator, normalised). */
export const THREE_DS_RESULTS = ['authenticated', 'attempted', 'failed', 'not_performed'] as const
/** 3-D Secure outcome. */
export type ThreeDsResult = (typeof THREE_DS_RESULTS)[number]
/** Schema for the 3-D Secure outcome. */
export const ThreeDsResultSchema = literalUnion(THREE_DS_RESULTS, '3-D Secure outcome')

/** Decision outcomes. */
export const OUTCOMES = ['approve', 'partial', 'decline'] as const
/** A decision outcome. */
export type Outcome = (typeof OUTCOMES)[number]
