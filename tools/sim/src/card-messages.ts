import {
  cryptogramData,
  encodePinBlock,
  encryptPinBlock,
  generateArqcProfile,
  type ArqcProfile,
  type CryptogramTags,
} from '@cardplane/payment-crypto'
import { countryNumeric, currencyNumeric, type VisaMessage } from '@cardplane/visa'
import { randomBytes } from 'node:crypto'

/**
 * What the simulated cardholder knows about the card (from the reveal page) and, for chip, what the
 * simulated card holds. The simulator plays the card and the acquirer, so in development it holds the
 * dev IMK-AC (to compute ARQCs like the chip would) and the link's clear ZPK (to encrypt PIN blocks like
 * the acquirer's HSM would). Never point it at production keys.
 */
export interface SimCard {
  pan: string
  /** YYMM */
  expiry: string
  cvv2?: string
  pin?: string
  /** PAN sequence number (5F34), default 00. */
  psn?: string
}

/** Keys the simulated card/acquirer hold (development only). */
export interface SimKeys {
  /** 32 hex: the dev issuer master key for application cryptograms. */
  imkAc?: string
  arqcProfile?: ArqcProfile
  /** 32 hex: the link's clear zone PIN key (shared between Visa and the issuer). */
  zpk?: string
}

/** Kinds of authorisation the simulator sends. */
export type AuthKind = 'ecommerce' | 'chip' | 'pin'

/** Options of one authorisation. */
export interface AuthOptions {
  kind: AuthKind
  amountMinor: number
  /** ISO 4217 alpha, e.g. EUR. */
  currency: string
  mcc: string
  /** ISO 3166 alpha-2 merchant country. */
  country: string
  stan: string
  transmissionTime: string
  acquirerId?: string
  merchantName?: string
  merchantCity?: string
  /** Override the CVV2 sent (bad CVV2 tests). */
  cvv2?: string
  /** Override the PIN entered (wrong PIN tests). */
  pin?: string
  /** Override the expiry sent. */
  expiry?: string
  /** Corrupt the ARQC (bad cryptogram tests). */
  badArqc?: boolean
  /** Application transaction counter (chip), default random. */
  atc?: number
}

function pad(s: string, n: number): string {
  return s.slice(0, n).padEnd(n, ' ')
}

/** DE 60 as BCD nibbles (12): terminal type, entry capability, chip condition … ECI (nibbles 8-9). */
function de60(terminalType: string, entryCapability: string, eci: string): Buffer {
  return Buffer.from(`${terminalType}${entryCapability}000000${eci}00`, 'hex')
}

/** The chip data (DE 55 TLV) a card of `profile` would send, with an ARQC computed under the dev IMK. */
export function chipData(card: SimCard, keys: SimKeys, opts: AuthOptions): Record<string, string> {
  if (!keys.imkAc || !keys.arqcProfile) throw new Error('chip authorisations need the dev IMK-AC and the ARQC profile')
  const currency = currencyNumeric(opts.currency) ?? '978'
  const country = countryNumeric(opts.country) ?? '276'
  const now = new Date()
  const yymmdd = now.toISOString().slice(2, 10).replace(/-/g, '')
  const atc = (opts.atc ?? 1 + Math.floor(Math.random() * 60000)).toString(16).toUpperCase().padStart(4, '0')
  const tags: CryptogramTags = {
    '9F02': String(opts.amountMinor).padStart(12, '0'),
    '9F03': '000000000000',
    '9F1A': country.padStart(4, '0'),
    '95': '0000000000',
    '5F2A': currency.padStart(4, '0'),
    '9A': yymmdd,
    '9C': '00',
    '9F37': randomBytes(4).toString('hex').toUpperCase(),
    '82': '1800',
    '9F36': atc,
    // Visa IAD: length 06, DKI 01, CVN, CVR 03A00000 (CVN 10 = 0A, CVN 18 = 12, CVN 22 = 16).
    '9F10': keys.arqcProfile === 'visa-cvn10' ? '06010A03A00000' : keys.arqcProfile === 'visa-cvn22' ? '06011603A00000' : '06011203A00000',
  }
  const psn = card.psn ?? '00'
  const arqc = generateArqcProfile({
    profile: keys.arqcProfile,
    imk: keys.imkAc,
    pan: card.pan,
    psn,
    atc,
    un: tags['9F37'],
    cdolData: cryptogramData({ profile: keys.arqcProfile, tags }),
  })
  const out: Record<string, string> = { '9F26': arqc, ...tags, '5F34': psn }
  if (opts.badArqc) out['9F26'] = (BigInt(`0x${arqc}`) ^ 1n).toString(16).toUpperCase().padStart(16, '0')
  return out
}

function tlv(tags: Record<string, string>): Buffer {
  const parts: Buffer[] = []
  for (const [tag, hex] of Object.entries(tags)) {
    const v = Buffer.from(hex, 'hex')
    parts.push(Buffer.from(tag, 'hex'), Buffer.from([v.length]), v)
  }
  const body = Buffer.concat(parts)
  const head = Buffer.from([0x01, 0, 0])
  head.writeUInt16BE(body.length, 1)
  return Buffer.concat([head, body])
}

function luhnValid(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/**
 * A 15-digit Visa transaction identifier (62.2). Generated so that it never passes the Luhn check: the
 * internal proxy's PAN guard blocks any Luhn-valid 13-19 digit run, and real identifiers do that one time
 * in ten (reported to the proxy-internal owners: the guard needs to know the scheme id fields).
 */
function transactionId(): string {
  let id = `${Date.now()}${Math.floor(Math.random() * 100)}`.slice(-15).padStart(15, '0')
  if (luhnValid(id)) id = id.slice(0, 14) + String((Number(id[14]) + 1) % 10)
  return id
}

/** A Visa 0100 as an acquirer would send it for this card and options. */
export function authorizationRequest(card: SimCard, keys: SimKeys, opts: AuthOptions): VisaMessage {
  const currency = currencyNumeric(opts.currency)
  const country = countryNumeric(opts.country)
  if (!currency) throw new Error(`unknown currency ${opts.currency}`)
  if (!country) throw new Error(`unknown country ${opts.country}`)
  const fields: VisaMessage['fields'] = {
    '2': card.pan,
    '3': '000000',
    '4': String(opts.amountMinor).padStart(12, '0'),
    '7': opts.transmissionTime,
    '11': opts.stan,
    '14': opts.expiry ?? card.expiry,
    '18': opts.mcc,
    '19': country,
    '32': opts.acquirerId ?? '400050',
    '37': `${opts.transmissionTime.slice(2, 8)}${opts.stan}`,
    '41': 'SIMTERM1',
    '42': 'SIMMERCHANT0001',
    '43': `${pad(opts.merchantName ?? 'Cardplane Sim Shop', 25)}${pad(opts.merchantCity ?? 'Berlin', 13)}${opts.country}`,
    '49': currency,
    '62.2': transactionId(),
  }
  switch (opts.kind) {
    case 'ecommerce': {
      fields['22'] = '010'
      fields['25'] = '59'
      fields['60'] = de60('0', '0', '05')
      const cvv2 = opts.cvv2 ?? card.cvv2
      if (cvv2) fields['126.10'] = `11${cvv2.padStart(4, ' ')}`
      break
    }
    case 'chip':
      fields['22'] = '051'
      fields['25'] = '00'
      fields['23'] = (card.psn ?? '00').padStart(3, '0')
      fields['60'] = de60('2', '5', '00')
      fields['55'] = tlv(chipData(card, keys, opts))
      break
    case 'pin': {
      const pin = opts.pin ?? card.pin
      if (!pin) throw new Error('PIN authorisations need the card PIN')
      if (!keys.zpk) throw new Error('PIN authorisations need the link ZPK')
      fields['22'] = '011'
      fields['25'] = '00'
      fields['60'] = de60('2', '5', '00')
      const clearBlock = encodePinBlock({ format: 0, pin, pan: card.pan })
      fields['52'] = Buffer.from(encryptPinBlock({ key: keys.zpk, clearBlock, format: 0, pan: card.pan }), 'hex')
      fields['53'] = '2001010100000000'
      break
    }
  }
  return { mti: '0100', fields }
}

/** Options of a reversal of an earlier authorisation. */
export interface ReversalOptions {
  /** 0400 reversal request (default) or 0420 reversal advice; 0401/0421 are repeats. */
  mti?: '0400' | '0401' | '0420' | '0421'
  /** The reversal's own STAN and DE 7. */
  stan: string
  transmissionTime: string
  /** Partial reversal: the amount that stays authorised (DE 95), minor units of the original currency. */
  replacementMinor?: number
  /** DE 39 of the reversal: why it is sent (e.g. 68 response received too late, 17 customer cancellation). */
  reasonCode?: string
}

/**
 * A reversal of `original` (a 0100 this simulator sent) as an acquirer would send it: the original's card,
 * amount and routing fields, its own STAN and DE 7, DE 90 = original MTI + STAN + DE 7 + zero-filled DE 32
 * (+ forwarding id, zeros), DE 95 for a partial reversal.
 */
export function reversalRequest(original: VisaMessage, opts: ReversalOptions): VisaMessage {
  const of = original.fields
  const str = (k: string): string => {
    const v = of[k]
    if (typeof v !== 'string') throw new Error(`the original has no DE ${k}`)
    return v
  }
  const fields: VisaMessage['fields'] = {}
  for (const k of ['2', '3', '4', '14', '18', '19', '32', '41', '42', '43', '49', '62.2']) {
    const v = of[k]
    if (v !== undefined) fields[k] = v
  }
  fields['7'] = opts.transmissionTime
  fields['11'] = opts.stan
  fields['37'] = `${opts.transmissionTime.slice(2, 8)}${opts.stan}`
  fields['90'] = `${original.mti}${str('11')}${str('7')}${str('32').padStart(11, '0')}${'0'.repeat(11)}`
  if (opts.replacementMinor !== undefined) {
    const amt = String(opts.replacementMinor).padStart(12, '0')
    fields['95'] = `${amt}${'0'.repeat(12)}${amt}${'0'.repeat(6)}`
  }
  if (opts.reasonCode) fields['39'] = opts.reasonCode
  return { mti: opts.mti ?? '0400', fields }
}

/**
 * A 0120 as Visa's stand-in (STIP) would send it after answering an authorisation for the issuer: the
 * authorisation's fields (an e-commerce one here), DE 39 = what STIP answered, DE 63.4 = the STIP reason
 * (9020: the issuer's response timed out).
 */
export function stipAdvice(card: SimCard, opts: Omit<AuthOptions, 'kind'> & { de39: string; stipReason?: string }): VisaMessage {
  const auth = authorizationRequest({ pan: card.pan, expiry: card.expiry }, {}, { ...opts, kind: 'ecommerce' })
  delete auth.fields['126.10']
  return { mti: '0120', fields: { ...auth.fields, '39': opts.de39, '63.4': opts.stipReason ?? '9020' } }
}
