import type { DeclineReason, Money, ReversalReason, StandInReason } from '@cardplane/contracts'
import { text, type VisaMessage } from './message.js'
import { reversalReasonOf, standInOutcomeOf } from './response-codes.js'
import { SensitiveEnvelope, type SensitiveEnvelopeData } from './sensitive-envelope.js'
import { money, optional, required, transmissionTime, visaToUnified, VisaFormatError, type VisaAuthorization } from './to-unified.js'

/**
 * Network identifiers of one message: enough to rebuild the processor's authorisation id
 * (`visa:<acquirer>:<yyyymmdd>T<hhmmss>:<stan>`) of the original or of the message itself.
 */
export interface VisaNetworkKey {
  acquirerId: string
  /** DE 7 completed with the year (ISO timestamp, UTC). */
  transmissionTime: string
  stan: string
}

/** DE 90 (original data elements) of a reversal or advice. */
export interface OriginalDataElements extends VisaNetworkKey {
  /** MTI of the original (0100, 0200, …). */
  mti: string
  forwardingId?: string
}

/** A 0400/0401 (request) or 0420/0421 (advice) reversal, in unified terms except for the card ID. */
export interface VisaReversal {
  /** true for 0420/0421: must be acknowledged 00 whatever happens to it. */
  advice: boolean
  /** Which authorisation it reverses (DE 90). */
  original: OriginalDataElements
  /** The reversal message's own DE 7 + 11 + 32: its reversalId, the same in a 0401/0421 repeat. */
  self: VisaNetworkKey
  kind: 'full' | 'partial'
  /** Partial: the amount that stays authorised (DE 95), in the cardholder billing currency. */
  replacementAmount?: Money
  reason: ReversalReason
  /** Optional network ids of the reversal itself (RRN, forwarding institution, 62.2). */
  rrn?: string
  forwardingId?: string
  schemeTransactionId?: string
  /** PAN (and expiry) only: what the card vault needs to resolve the card ID. */
  envelope: SensitiveEnvelope
  /** Duplicate-window key (namespace `visa-rev`): a retransmission or repeat has the same. */
  duplicateKey: string
}

/** A 0120/0121: advice of a decision Visa's stand-in (STIP) gave for the issuer. */
export interface VisaStandInAdvice {
  /** The authorisation as the stand-in saw it (envelope: PAN and expiry only). */
  auth: VisaAuthorization
  /** The authorisation the advice is about: DE 90 when present, else the advice's own DE 7 + 11 + 32. */
  authorization: VisaNetworkKey
  /** The advice's own DE 7 + 11 + 32 (the same in a 0121 repeat). */
  self: VisaNetworkKey
  outcome: 'approve' | 'partial' | 'decline'
  /** approve/partial: DE 6 (cardholder billing) when present, else DE 4. */
  approvedAmount?: Money
  reason?: DeclineReason
  standInReason: StandInReason
  /** What Visa answered (DE 39), for logs. */
  de39: string
  /** Duplicate-window key (namespace `visa-adv`). */
  duplicateKey: string
}

const DE90 = /^[0-9]{42}$/

/**
 * DE 90 (n 42): original MTI (4), original STAN (6), original transmission date and time MMDDhhmmss (10),
 * original acquirer id (11, right-justified, zero-filled), original forwarding institution id (11). The
 * year of the date is inferred like DE 7's. The acquirer id is compared with the message's own DE 32
 * (variable length, `n..11`) so the id is spelt as the original's DE 32 was: the reversal's DE 32 when
 * zero-filling it gives DE 90's, else DE 90's without leading zeros.
 */
export function parseOriginalDataElements(de90: string, receivedAt: Date, ownAcquirerId?: string): OriginalDataElements {
  if (!DE90.test(de90)) throw new VisaFormatError('90', 'not 42 digits')
  const mti = de90.slice(0, 4)
  if (mti[0] !== '0' || (mti[1] !== '1' && mti[1] !== '2')) throw new VisaFormatError('90', 'original MTI is not an authorisation or financial message')
  const stan = de90.slice(4, 10)
  const time = transmissionTime(de90.slice(10, 20), receivedAt, '90')
  const acq11 = de90.slice(20, 31)
  const fwd11 = de90.slice(31, 42)
  let acquirerId: string
  if (ownAcquirerId !== undefined && ownAcquirerId.padStart(11, '0') === acq11) acquirerId = ownAcquirerId
  else acquirerId = acq11.replace(/^0+/, '')
  if (acquirerId === '') throw new VisaFormatError('90', 'original acquirer id missing')
  const out: OriginalDataElements = { mti, stan, transmissionTime: time, acquirerId }
  const forwardingId = fwd11.replace(/^0+/, '')
  if (forwardingId) out.forwardingId = forwardingId
  return out
}

/**
 * DE 95 (ans 42): actual amount transaction (12), settlement (12), cardholder billing (12), 6 filler. The
 * replacement amount is what stays authorised. All zero (or DE 95 absent) → full reversal. The billing
 * amount is taken when present (currency DE 51, else DE 49); a transaction amount alone is taken only when
 * the transaction and billing currencies are the same (the issuer holds in the billing currency and the
 * connector does not convert).
 */
export function replacementAmountOf(msg: VisaMessage): Money | undefined {
  const de95 = text(msg.fields, '95')
  if (de95 === undefined) return undefined
  if (!/^[0-9]{36}[0-9 ]{6}$/.test(de95)) throw new VisaFormatError('95', 'not three 12-digit amounts')
  const txn = Number(de95.slice(0, 12))
  const billing = Number(de95.slice(24, 36))
  const de49 = required(msg, '49', /^[0-9]{3}$/, 'a numeric currency')
  const de51 = optional(msg, '51', /^[0-9]{3}$/, 'a numeric currency')
  if (billing > 0) return money(String(billing), de51 ?? de49, de51 ? '51' : '49')
  if (txn > 0) {
    if (de51 !== undefined && de51 !== de49) throw new VisaFormatError('95', 'replacement in the transaction currency only, billing currency differs')
    return money(String(txn), de49, '49')
  }
  return undefined
}

/** PAN and expiry only (DE 2 / 14, or track 2): enough to find the card, nothing to check it with. */
export function cardLookupEnvelope(msg: VisaMessage): SensitiveEnvelope {
  const track2 = optional(msg, '35', /^[0-9]{12,19}[=D][0-9]{0,20}$/, 'track 2 data')
  let pan = optional(msg, '2', /^[0-9]{12,19}$/, 'a PAN')
  let expiry = optional(msg, '14', /^[0-9]{4}$/, 'YYMM')
  if (track2) {
    const [t2pan, rest = ''] = track2.split(/[=D]/)
    pan ??= t2pan
    expiry ??= rest.slice(0, 4) || undefined
  }
  if (!pan) throw new VisaFormatError('2', 'missing')
  const data: SensitiveEnvelopeData = { pan }
  if (expiry) data.expiry = expiry
  return new SensitiveEnvelope(data)
}

function ownKey(msg: VisaMessage, receivedAt: Date): VisaNetworkKey & { de7: string } {
  const de7 = required(msg, '7', /^[0-9]{10}$/, 'MMDDhhmmss')
  const stan = required(msg, '11', /^[0-9]{6}$/, 'a 6-digit STAN')
  const acquirerId = required(msg, '32', /^[0-9]{1,11}$/, 'an institution id')
  return { de7, stan, acquirerId, transmissionTime: transmissionTime(de7, receivedAt) }
}

/**
 * Map a 0400/0401/0420/0421. Throws VisaFormatError (answer 30) for a missing or malformed DE 2, 7, 11,
 * 32, 49, 90 or 95. A repeat (0401/0421) is the same message with the last MTI digit changed: it keeps the
 * original reversal's DE 7, 11 and 32 (ISO 8583 repeat rule; to check against the BASE I spec), so it
 * maps to the same reversalId and duplicate key.
 */
export function visaReversal(msg: VisaMessage, receivedAt: Date): VisaReversal {
  const self = ownKey(msg, receivedAt)
  required(msg, '4', /^[0-9]{12}$/, 'a 12-digit amount')
  required(msg, '49', /^[0-9]{3}$/, 'a numeric currency')
  const de90 = text(msg.fields, '90')
  if (de90 === undefined) throw new VisaFormatError('90', 'missing')
  const original = parseOriginalDataElements(de90, receivedAt, self.acquirerId)
  const replacementAmount = replacementAmountOf(msg)
  const de39 = optional(msg, '39', /^[0-9A-Z]{2}$/, 'a response code')
  const envelope = cardLookupEnvelope(msg)
  const out: VisaReversal = {
    advice: msg.mti.startsWith('042'),
    original,
    self: { acquirerId: self.acquirerId, stan: self.stan, transmissionTime: self.transmissionTime },
    kind: replacementAmount ? 'partial' : 'full',
    reason: reversalReasonOf(de39),
    envelope,
    duplicateKey: `visa-rev:${self.acquirerId}:${self.de7}:${self.stan}`,
  }
  if (replacementAmount) out.replacementAmount = replacementAmount
  const rrn = optional(msg, '37', /^[A-Za-z0-9 ]{12}$/, 'a 12-character RRN')
  if (rrn) out.rrn = rrn
  const forwardingId = optional(msg, '33', /^[0-9]{1,11}$/, 'an institution id')
  if (forwardingId) out.forwardingId = forwardingId
  const tid = optional(msg, '62.2', /^[0-9A-Za-z]{1,15}$/, 'a transaction identifier')
  if (tid) out.schemeTransactionId = tid
  return out
}

/**
 * Visa STIP/switch reason code (DE 63.4) → why the stand-in decided. Values as publicly documented by
 * Visa issuer processors (9001 issuer signed off, 9002 signed off by Visa, 9011 line down, 9012 forced
 * STIP after an N0 answer, 9020 issuer response timed out); anything else → `other`. Check against the
 * BASE I spec.
 */
export function standInReasonOf(code: string | undefined): StandInReason {
  switch (code) {
    case '9001':
    case '9002':
      return 'issuer_signed_off'
    case '9011':
      return 'line_down'
    case '9012':
      return 'forced'
    case '9020':
      return 'issuer_timeout'
    default:
      return 'other'
  }
}

/**
 * Map a 0120/0121 STIP advice. The authorisation fields are read like a 0100's (same format errors), DE
 * 39 is required (what Visa answered). The envelope keeps only PAN and expiry: the advice is posted, not
 * re-checked. The authorisation id comes from DE 90 when present, else from the advice's own DE 7 + 11 +
 * 32 (on the assumption that Visa's advice keeps the 0100's; to check against the BASE I spec).
 */
export function visaStandInAdvice(msg: VisaMessage, receivedAt: Date): VisaStandInAdvice {
  const de39 = required(msg, '39', /^[0-9A-Z]{2}$/, 'a response code')
  const unified = visaToUnified(msg, receivedAt)
  const self = ownKey(msg, receivedAt)
  const de90 = text(msg.fields, '90')
  const authorization: VisaNetworkKey = de90 !== undefined ? parseOriginalDataElements(de90, receivedAt, self.acquirerId) : self
  const stand = standInOutcomeOf(de39)
  const out: VisaStandInAdvice = {
    auth: { ...unified, envelope: cardLookupEnvelope(msg), chip: false },
    authorization: { acquirerId: authorization.acquirerId, stan: authorization.stan, transmissionTime: authorization.transmissionTime },
    self: { acquirerId: self.acquirerId, stan: self.stan, transmissionTime: self.transmissionTime },
    outcome: stand.outcome,
    standInReason: standInReasonOf(text(msg.fields, '63.4')),
    de39,
    duplicateKey: `visa-adv:${self.acquirerId}:${self.de7}:${self.stan}`,
  }
  if (stand.outcome === 'decline') out.reason = stand.reason
  else out.approvedAmount = unified.draft.amounts.cardholderBilling
  return out
}
