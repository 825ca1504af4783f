import { tdesEcb, tdesEcbEncrypt } from './block-cipher.js'
import { decimalizeHex } from './decimalize.js'
import { PaymentCryptoError } from './errors.js'
import { checkPan, fromHex, hexEqual, isDigits, keyFromHex, toHex } from './hex.js'

/** The IBM 3624 decimalisation table most issuers use: 0–9 map to themselves, A–F to 0–5. */
export const DEFAULT_DECIMALIZATION_TABLE = '0123456789012345'

/** Input to {@link pvv}. */
export interface PvvInput {
  /** 32 hex: double-length PVK (PVK A ‖ PVK B). 16 or 48 hex are accepted too. */
  pvk: string
  /** 13–19 digits: the 11 digits left of the check digit are used. */
  pan: string
  /** 1 digit: PIN verification key index. */
  pvki: string
  /** 4–12 digits; the Visa PVV covers the leftmost four. */
  pin: string
}

function checkPin(pin: unknown, field = 'pin'): string {
  if (!isDigits(pin, 4, 12)) throw new PaymentCryptoError('invalid_pin', `${field} must be 4-12 digits`, field)
  return pin
}

/**
 * Visa PIN verification value (Visa PIN Verification Service): TSP = 11 rightmost PAN digits
 * excluding the check digit ‖ PVKI ‖ 4 PIN digits, TDES-encrypted under the PVK, decimalised,
 * first four digits.
 */
export function pvv(input: PvvInput): string {
  const pvk = keyFromHex(input.pvk, 'pvk', [8, 16, 24])
  return decimalizeHex(toHex(tdesEcbEncrypt(pvk, transformedSecurityParameter(input))), 4)
}

function transformedSecurityParameter(input: Omit<PvvInput, 'pvk'>): Buffer {
  const pan = checkPan(input.pan, 'pan', 13)
  if (!isDigits(input.pvki, 1, 1)) throw new PaymentCryptoError('invalid_argument', 'pvki must be 1 digit', 'pvki')
  const pin = checkPin(input.pin)
  return Buffer.from(pan.slice(-12, -1) + input.pvki + pin.slice(0, 4), 'hex')
}

/** PVV operations bound to one PVK and a reusable OpenSSL context (the caller owns its lifetime). */
export interface PvvContext {
  pvv(input: Omit<PvvInput, 'pvk'>): string
  verifyPvv(input: Omit<PvvInput, 'pvk'> & { pvv: string }): boolean
}

/** Binds a PVK to a reusable TDES context; see createCvvContext for the ownership rule. */
export function createPvvContext(pvk: string): PvvContext {
  const enc = tdesEcb(keyFromHex(pvk, 'pvk', [8, 16, 24]))
  const compute = (input: Omit<PvvInput, 'pvk'>): string => decimalizeHex(toHex(enc(transformedSecurityParameter(input))), 4)
  return {
    pvv: compute,
    verifyPvv(input) {
      const expected = compute(input)
      return isDigits(input.pvv, 4, 4) && hexEqual(expected, input.pvv)
    },
  }
}

/** Recomputes the PVV and compares in constant time. */
export function verifyPvv(input: PvvInput & { pvv: string }): boolean {
  const expected = pvv(input)
  return isDigits(input.pvv, 4, 4) && hexEqual(expected, input.pvv)
}

/** Validation data and decimalisation options shared by the IBM 3624 functions. */
export interface Ibm3624Options {
  /** 16, 32 or 48 hex: PIN verification key. */
  pvk: string
  /** 16 hex: the validation data block, when the caller forms it. */
  validationData?: string
  /** Otherwise, digits of this PAN (or account number) form the validation data. */
  pan?: string
  /** First PAN digit used (default 0). */
  validationStart?: number
  /** Number of PAN digits used (default: up to 16 from the start). */
  validationLength?: number
  /** Hex digit filling the validation data to 16 on the right (default `F`). */
  pad?: string
  /** 16 decimal digits (default `0123456789012345`). */
  decimalizationTable?: string
}

function validationBlock(o: Ibm3624Options): Buffer {
  if (o.validationData !== undefined) return fromHex(o.validationData, 'validationData', 8)
  if (o.pan === undefined) throw new PaymentCryptoError('invalid_argument', 'validationData or pan is required', 'pan')
  const pan = checkPan(o.pan, 'pan', 1)
  const start = o.validationStart ?? 0
  const length = o.validationLength ?? Math.min(16, pan.length - start)
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 1 || length > 16 || start + length > pan.length) {
    throw new PaymentCryptoError('invalid_argument', 'validationStart/validationLength must lie within the PAN', 'validationLength')
  }
  const pad = o.pad ?? 'F'
  if (!/^[0-9A-Fa-f]$/.test(pad)) throw new PaymentCryptoError('invalid_hex', 'pad must be one hex digit', 'pad')
  return Buffer.from(pan.slice(start, start + length).padEnd(16, pad), 'hex')
}

/** The intermediate ("natural") PIN: the 16 encrypted validation nibbles through the decimalisation table. */
function naturalPin(o: Ibm3624Options, length: number): string {
  const pvk = keyFromHex(o.pvk, 'pvk', [8, 16, 24])
  const table = o.decimalizationTable ?? DEFAULT_DECIMALIZATION_TABLE
  if (!isDigits(table, 16, 16)) {
    throw new PaymentCryptoError('invalid_decimalization_table', 'decimalizationTable must be 16 digits', 'decimalizationTable')
  }
  const enc = toHex(tdesEcbEncrypt(pvk, validationBlock(o)))
  let out = ''
  for (let i = 0; i < length; i++) out += table[parseInt(enc[i] ?? '0', 16)]
  return out
}

function addMod10(a: string, b: string, sign: 1 | -1): string {
  let out = ''
  for (let i = 0; i < a.length; i++) {
    out += String((a.charCodeAt(i) - 48 + sign * (b.charCodeAt(i) - 48) + 10) % 10)
  }
  return out
}

/** IBM 3624 PIN offset: (customer PIN − natural PIN) digit by digit mod 10; same length as the PIN. */
export function ibm3624Offset(input: Ibm3624Options & { pin: string }): string {
  const pin = checkPin(input.pin)
  return addMod10(pin, naturalPin(input, pin.length), -1)
}

/** IBM 3624 PIN from an offset: (natural PIN + offset) mod 10; same length as the offset. */
export function ibm3624Pin(input: Ibm3624Options & { offset: string }): string {
  if (!isDigits(input.offset, 4, 12)) {
    throw new PaymentCryptoError('invalid_argument', 'offset must be 4-12 digits', 'offset')
  }
  return addMod10(naturalPin(input, input.offset.length), input.offset, 1)
}

/** Checks a PIN against its IBM 3624 offset (constant-time compare). */
export function verifyIbm3624(input: Ibm3624Options & { pin: string; offset: string }): boolean {
  const pin = checkPin(input.pin)
  if (!isDigits(input.offset, 4, 12) || input.offset.length !== pin.length) return false
  return hexEqual(ibm3624Pin(input), pin)
}
