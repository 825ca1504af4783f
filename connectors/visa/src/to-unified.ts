import type {
  AuthorizationRequest,
  DecisionMessageClass,
  EntryMode,
  Initiator,
  PosData,
  TerminalType,
  ThreeDsResult,
} from '@cardplane/contracts'
import { parseTlv, TlvError } from './emv-tlv.js'
import { countryAlpha2, currencyAlpha } from './iso-codes.js'
import { bytes, text, type VisaMessage } from './message.js'
import { SensitiveEnvelope, type SensitiveEnvelopeData } from './sensitive-envelope.js'

/**
 * The unified request as far as the connector can fill it: everything except what the card vault
 * (card ID, last four, program) and the pipeline (authorisation id, verification results) add.
 */
export type UnifiedDraft = Omit<
  AuthorizationRequest,
  'authorizationId' | 'cardId' | 'lastFour' | 'programId' | 'verification' | 'receivedAt'
>

/** A Visa 0100/0200 turned into the unified draft, the sensitive envelope and the duplicate key. */
export interface VisaAuthorization {
  draft: UnifiedDraft
  envelope: SensitiveEnvelope
  /**
   * DE 7 + DE 11 + DE 32: identifies a retransmission of the same message (Visa repeats keep them).
   * Safe to use as a Redis key and as the authorisation idempotency id.
   */
  duplicateKey: string
  /** The card is chip-read and carries an ARQC (DE 55 tag 9F26): the response needs an ARPC. */
  chip: boolean
}

/** A field the connector cannot accept; answered with DE 39 = 30 (format error). No value in `message`. */
export class VisaFormatError extends Error {
  readonly code = 'visa_format_error'
  readonly field: string
  constructor(field: string, message: string) {
    super(`DE ${field}: ${message}`)
    this.name = 'VisaFormatError'
    this.field = field
  }
}

export function required(msg: VisaMessage, key: string, pattern: RegExp, what: string): string {
  const v = text(msg.fields, key)
  if (v === undefined) throw new VisaFormatError(key, 'missing')
  if (!pattern.test(v)) throw new VisaFormatError(key, `not ${what}`)
  return v
}

export function optional(msg: VisaMessage, key: string, pattern: RegExp, what: string): string | undefined {
  const v = text(msg.fields, key)
  if (v === undefined) return undefined
  if (!pattern.test(v)) throw new VisaFormatError(key, `not ${what}`)
  return v
}

/**
 * DE 7 (MMDDhhmmss, UTC, no year) → ISO timestamp, with the year that puts it nearest to `now`. Also used
 * for the original transmission time inside DE 90 (`field` names the element in the format error).
 */
export function transmissionTime(de7: string, now: Date, field = '7'): string {
  const month = Number(de7.slice(0, 2))
  const day = Number(de7.slice(2, 4))
  const h = Number(de7.slice(4, 6))
  const m = Number(de7.slice(6, 8))
  const s = Number(de7.slice(8, 10))
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 59) {
    throw new VisaFormatError(field, 'not a valid date and time')
  }
  let best: Date | undefined
  for (const year of [now.getUTCFullYear() - 1, now.getUTCFullYear(), now.getUTCFullYear() + 1]) {
    const d = new Date(Date.UTC(year, month - 1, day, h, m, s))
    if (d.getUTCMonth() !== month - 1) continue
    if (!best || Math.abs(d.getTime() - now.getTime()) < Math.abs(best.getTime() - now.getTime())) best = d
  }
  if (!best) throw new VisaFormatError(field, 'not a valid date')
  return best.toISOString()
}

/** DE 10 / DE 9: first digit = decimal places, the rest the digits. */
function conversionRate(raw: string): string {
  const places = Number(raw[0])
  const digits = raw.slice(1).replace(/^0+(?=\d)/, '')
  if (places === 0) return digits
  const padded = digits.padStart(places + 1, '0')
  return `${padded.slice(0, -places)}.${padded.slice(-places)}`
}

export function money(amount: string, currencyNumeric: string, field: string): { minor: number; currency: string } {
  const currency = currencyAlpha(currencyNumeric)
  if (!currency) throw new VisaFormatError(field, 'unknown currency')
  return { minor: Number(amount), currency }
}

function messageClass(mti: string, processingCode: string, amountMinor: number, posCondition?: string): DecisionMessageClass {
  const type = processingCode.slice(0, 2)
  if (type === '30' || type === '31') return 'balance_inquiry'
  if (amountMinor === 0 && (posCondition === '51' || type === '00')) return 'account_verification'
  return mti === '0200' ? 'financial' : 'authorization'
}

function entryMode(de22: string | undefined): EntryMode {
  switch (de22?.slice(0, 2)) {
    case '01':
      return 'manual'
    case '02':
      return 'magstripe'
    case '90':
      return 'magstripe_full'
    case '05':
    case '95':
      return 'chip'
    case '07':
      return 'contactless_chip'
    case '91':
      return 'contactless_magstripe'
    case '80':
      return 'fallback_magstripe'
    case '10':
      return 'credential_on_file'
    case '81':
      return 'ecommerce'
    default:
      return 'unknown'
  }
}

function threeDs(eci: string | undefined): ThreeDsResult | undefined {
  switch (eci) {
    case '05':
      return 'authenticated'
    case '06':
      return 'attempted'
    case '07':
      return 'not_performed'
    default:
      return undefined
  }
}

function posData(msg: VisaMessage, mcc: string): PosData {
  const de22 = optional(msg, '22', /^[0-9]{3,4}$/, 'numeric')
  const de25 = optional(msg, '25', /^[0-9]{2}$/, 'numeric')
  const eci = de60(msg, 8)
  const mode = entryMode(de22)
  const ecommerce = de25 === '59' || eci === '05' || eci === '06' || eci === '07' || mode === 'ecommerce'
  const cardPresent = ['magstripe', 'magstripe_full', 'chip', 'contactless_chip', 'contactless_magstripe', 'fallback_magstripe'].includes(mode)
  const moto = de25 === '08'
  let terminalType: TerminalType = 'unknown'
  if (ecommerce) terminalType = 'ecommerce'
  else if (moto) terminalType = 'mail_telephone'
  else if (mcc === '6011') terminalType = 'atm'
  else if (cardPresent) terminalType = 'pos'
  // Visa DE 126.13 POS environment: R recurring, I instalment, C credential on file (merchant initiated).
  const env = text(msg.fields, '126.13')
  const initiator: Initiator = env === 'R' || env === 'I' || env === 'C' ? 'merchant' : 'cardholder'
  const pos: PosData = {
    entryMode: mode,
    cardPresent,
    cardholderPresent: !ecommerce && !moto && initiator === 'cardholder',
    pinEntered: bytes(msg.fields, '52') !== undefined,
    ecommerce,
    terminalType,
    initiator,
  }
  const tds = threeDs(eci)
  if (tds) pos.threeDs = tds
  if (eci) pos.eci = eci
  return pos
}

function merchant(msg: VisaMessage): AuthorizationRequest['merchant'] {
  const mcc = required(msg, '18', /^[0-9]{4}$/, 'a 4-digit MCC')
  const de43 = text(msg.fields, '43')
  const de19 = optional(msg, '19', /^[0-9]{3}$/, 'numeric')
  // DE 43: name 1-25, city 26-38, country 39-40 (alpha-2).
  const name = de43?.slice(0, 25).trim()
  const city = de43?.slice(25, 38).trim()
  const c43 = de43?.slice(38, 40)
  const country = c43 && /^[A-Z]{2}$/.test(c43) ? c43 : de19 ? countryAlpha2(de19) : undefined
  if (!country) throw new VisaFormatError(de43 ? '43' : '19', 'no merchant country')
  const out: AuthorizationRequest['merchant'] = { mcc, country }
  const acceptorId = text(msg.fields, '42')?.trim()
  const terminalId = text(msg.fields, '41')?.trim()
  if (acceptorId) out.acceptorId = acceptorId
  if (terminalId) out.terminalId = terminalId
  if (name) out.name = name
  if (city) out.city = city
  return out
}

/**
 * DE 60 (additional POS information) is a string of BCD nibbles: 60.1 terminal type (nibble 0), 60.2 entry
 * capability (1), 60.3 chip condition (2), 60.4 (3), 60.5 (4-5), 60.6 (6), 60.7 (7), 60.8 MOTO/ECI (8-9),
 * 60.9 (10), 60.10 additional authorisation indicators (11; 1 = partial approval supported).
 * A pre-split flat key ("60.8") wins, for messages built by hand.
 */
const DE60_NIBBLES: Record<number, [number, number]> = { 1: [0, 1], 2: [1, 2], 3: [2, 3], 8: [8, 10], 10: [11, 12] }
function de60(msg: VisaMessage, sub: 1 | 2 | 3 | 8 | 10): string | undefined {
  const flat = text(msg.fields, `60.${sub}`)
  if (flat !== undefined) return flat
  const raw = bytes(msg.fields, '60')
  if (!raw) return undefined
  const hex = raw.toString('hex')
  const [from, to] = DE60_NIBBLES[sub]!
  if (hex.length < to) return undefined
  const v = hex.slice(from, to)
  if (!/^[0-9]+$/.test(v)) throw new VisaFormatError('60', 'not BCD')
  return v
}

/** DE 126.10 CVV2: presence indicator, response type, then the value right-justified in 4 positions. */
function cvv2Of(msg: VisaMessage): string | undefined {
  const v = text(msg.fields, '126.10')
  if (v === undefined) return undefined
  if (v.length !== 6 || v[0] !== '1') return undefined
  const value = v.slice(2).trim()
  if (!/^[0-9]{3,4}$/.test(value)) throw new VisaFormatError('126.10', 'CVV2 not numeric')
  return value
}

function envelopeOf(msg: VisaMessage): SensitiveEnvelopeData {
  const track2 = optional(msg, '35', /^[0-9]{12,19}[=D][0-9]{0,20}$/, 'track 2 data')
  let pan = optional(msg, '2', /^[0-9]{12,19}$/, 'a PAN')
  let expiry = optional(msg, '14', /^[0-9]{4}$/, 'YYMM')
  let serviceCode: string | undefined
  if (track2) {
    const [t2pan, rest = ''] = track2.split(/[=D]/)
    pan ??= t2pan
    expiry ??= rest.slice(0, 4) || undefined
    serviceCode = rest.slice(4, 7) || undefined
  }
  if (!pan) throw new VisaFormatError('2', 'missing')
  const env: SensitiveEnvelopeData = { pan }
  if (expiry) env.expiry = expiry
  if (serviceCode) env.serviceCode = serviceCode
  if (track2) env.track2 = track2
  const cvv2 = cvv2Of(msg)
  if (cvv2) env.cvv2 = cvv2
  const pinBlock = bytes(msg.fields, '52')
  if (pinBlock) {
    if (pinBlock.length !== 8) throw new VisaFormatError('52', 'PIN block is not 8 bytes')
    env.pinBlock = pinBlock.toString('hex').toUpperCase()
    // DE 53 positions 5-6: PIN block format (01 = ISO format 0).
    const de53 = optional(msg, '53', /^[0-9]{16}$/, 'numeric')
    const fmt = de53 ? Number(de53.slice(4, 6)) : 1
    env.pinBlockFormat = fmt === 1 ? 0 : fmt
  }
  let chip = bytes(msg.fields, '55')
  if (chip) {
    // Visa DE 55 starts with a dataset id (0x01) and a 2-byte dataset length before the TLV list.
    if (chip.length >= 3 && chip[0] === 0x01 && chip.readUInt16BE(1) === chip.length - 3) chip = chip.subarray(3)
    try {
      env.emv = parseTlv(chip)
    } catch (err) {
      if (err instanceof TlvError) throw new VisaFormatError('55', err.message)
      throw err
    }
  }
  return env
}

/**
 * The processor's duplicate key of a Visa request: acquirer (DE 32), transmission time (DE 7) and STAN (DE 11),
 * the fields a retransmission repeats. The one place its format is written (the stage trace joins on it).
 */
export function visaDuplicateKey(acquirerId: string, de7: string, stan: string): string {
  return `visa:${acquirerId}:${de7}:${stan}`
}

/**
 * Map a Visa 0100/0200 to the unified draft and the sensitive envelope. Throws VisaFormatError for a
 * missing or malformed field (answer 30).
 */
export function visaToUnified(msg: VisaMessage, receivedAt: Date): VisaAuthorization {
  const processingCode = required(msg, '3', /^[0-9]{6}$/, 'a processing code')
  const amount = required(msg, '4', /^[0-9]{12}$/, 'a 12-digit amount')
  const de7 = required(msg, '7', /^[0-9]{10}$/, 'MMDDhhmmss')
  const stan = required(msg, '11', /^[0-9]{6}$/, 'a 6-digit STAN')
  const acquirerId = required(msg, '32', /^[0-9]{1,11}$/, 'an institution id')
  const forwardingId = optional(msg, '33', /^[0-9]{1,11}$/, 'an institution id')
  const rrn = optional(msg, '37', /^[A-Za-z0-9 ]{12}$/, 'a 12-character RRN')
  const currency = required(msg, '49', /^[0-9]{3}$/, 'a numeric currency')
  const posCondition = optional(msg, '25', /^[0-9]{2}$/, 'numeric')
  const transaction = money(amount, currency, '4')
  const billingAmount = optional(msg, '6', /^[0-9]{12}$/, 'a 12-digit amount')
  const billingCurrency = optional(msg, '51', /^[0-9]{3}$/, 'a numeric currency')
  const cardholderBilling = billingAmount && billingCurrency ? money(billingAmount, billingCurrency, '6') : transaction
  const amounts: UnifiedDraft['amounts'] = { transaction, cardholderBilling }
  const rate = optional(msg, '10', /^[0-7][0-9]{7}$/, 'a conversion rate')
  if (rate && billingAmount) amounts.cardholderBillingRate = conversionRate(rate)
  const merch = merchant(msg)
  const network: UnifiedDraft['network'] = {
    scheme: 'visa',
    stan,
    transmissionTime: transmissionTime(de7, receivedAt),
    acquirerId,
  }
  const tid = optional(msg, '62.2', /^[0-9A-Za-z]{1,15}$/, 'a transaction identifier')
  if (tid) network.schemeTransactionId = tid
  if (rrn) network.rrn = rrn
  if (forwardingId) network.forwardingId = forwardingId
  const envelope = envelopeOf(msg)
  const draft: UnifiedDraft = {
    messageClass: messageClass(msg.mti, processingCode, transaction.minor, posCondition),
    amounts,
    partialApprovalCapable: de60(msg, 10) === '1',
    merchant: merch,
    pos: posData(msg, merch.mcc),
    network,
  }
  return {
    draft,
    envelope: new SensitiveEnvelope(envelope),
    duplicateKey: visaDuplicateKey(acquirerId, de7, stan),
    chip: envelope.emv?.['9F26'] !== undefined,
  }
}
