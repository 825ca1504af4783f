import { tdesEcbEncrypt } from './block-cipher.js'
import { decimalizeHex } from './decimalize.js'
import { iccMasterKeyBytes } from './emv-keys.js'
import { PaymentCryptoError } from './errors.js'
import { checkPan, fromHex, hexEqual, isDigits, keyFromHex, toHex } from './hex.js'
import { prepareRetailMacKey, retailMacBytes } from './mac.js'

/** Input to {@link cvv}: CVV (service code from the track), CVV2 (`000`), iCVV (`999`). */
export interface CvvInput {
  /** 32 hex: double-length CVK, CVK A ‖ CVK B. */
  cvk: string
  /** 12–19 digits. */
  pan: string
  /** YYMM, as on the magnetic stripe. */
  expiry: string
  /** 3 digits: the track's service code for CVV, `000` for CVV2, `999` for iCVV. */
  serviceCode: string
}

function checkCvvInput(input: Omit<CvvInput, 'cvk'>): Buffer {
  const pan = checkPan(input.pan)
  if (!isDigits(input.expiry, 4, 4)) {
    throw new PaymentCryptoError('invalid_expiry', 'expiry must be 4 digits (YYMM)', 'expiry')
  }
  if (!isDigits(input.serviceCode, 3, 3)) {
    throw new PaymentCryptoError('invalid_service_code', 'serviceCode must be 3 digits', 'serviceCode')
  }
  // PAN ‖ expiry ‖ service code, zero-filled on the right to two 8-byte blocks.
  return Buffer.from((pan + input.expiry + input.serviceCode).padEnd(32, '0'), 'hex')
}

/**
 * Visa CVV / Mastercard CVC (the same algorithm): block 1 encrypted under CVK A, XORed with
 * block 2, then TDES-encrypted under CVK A‖B (i.e. ISO/IEC 9797-1 MAC algorithm 3), decimalised,
 * first three digits.
 */
export function cvv(input: CvvInput): string {
  const cvk = keyFromHex(input.cvk, 'cvk', [16])
  const data = checkCvvInput(input)
  return decimalizeHex(toHex(retailMacBytes(cvk, data, 1)), 3)
}

/** Recomputes the CVV and compares in constant time; a malformed `cvv` is simply false. */
export function verifyCvv(input: CvvInput & { cvv: string }): boolean {
  const expected = cvv(input)
  return isDigits(input.cvv, 3, 3) && hexEqual(expected, input.cvv)
}

/** CVV operations bound to one CVK; see {@link createCvvContext}. */
export interface CvvContext {
  cvv(input: Omit<CvvInput, 'cvk'>): string
  verifyCvv(input: Omit<CvvInput, 'cvk'> & { cvv: string }): boolean
}

/**
 * Binds a CVK to two reusable OpenSSL contexts so each CVV costs two block encryptions instead
 * of two context set-ups (several times faster). Nothing is cached by this package: the caller
 * owns the context exactly as it owns the unsealed key, and drops it when the key is rotated or
 * the service seals.
 */
export function createCvvContext(cvk: string): CvvContext {
  const mac = prepareRetailMacKey(keyFromHex(cvk, 'cvk', [16]))
  const compute = (input: Omit<CvvInput, 'cvk'>): string =>
    decimalizeHex(toHex(mac.mac(checkCvvInput(input), 1)), 3)
  return {
    cvv: compute,
    verifyCvv(input) {
      const expected = compute(input)
      return isDigits(input.cvv, 3, 3) && hexEqual(expected, input.cvv)
    },
  }
}

/** Input to {@link cvc3}. Give either the ICC key or the issuer master key with PAN and PSN. */
export interface Cvc3Input {
  /** 32 hex: the card's ICC CVC3 key (KD CVC3). */
  iccKey?: string
  /** 32 hex: issuer CVC3 master key; the ICC key is derived with EMV option A from `pan`/`psn`. */
  imk?: string
  pan?: string
  /** 2 digits, PAN sequence number (default `00`). */
  psn?: string
  /**
   * Static track data the card MACs at personalisation to get IVCVC3, as hex: track 2 equivalent
   * data as its nibbles (e.g. `5123456789012345D35121010000000000000F`) or track 1 as ASCII bytes.
   * Not needed when `ivCvc3` is given.
   */
  trackData?: string
  /** 4 hex: IVCVC3 (track 1 or track 2 flavour) when already known. */
  ivCvc3?: string
  /** 8 hex: terminal unpredictable number, 4 bytes as sent to the card (UN 9F6A). */
  un: string
  /** 4 hex: application transaction counter. */
  atc: string
  /** Rightmost digits kept (default 3, at most 5). */
  digits?: number
}

function cvc3Key(input: Cvc3Input): Buffer {
  if (input.iccKey !== undefined) return keyFromHex(input.iccKey, 'iccKey', [16])
  if (input.imk === undefined || input.pan === undefined) {
    throw new PaymentCryptoError('invalid_argument', 'either iccKey or imk with pan is required', 'iccKey')
  }
  return iccMasterKeyBytes(keyFromHex(input.imk, 'imk', [16]), input.pan, input.psn ?? '00', 'A')
}

/**
 * Mastercard PayPass/M-Chip mag-stripe dynamic CVC3: IVCVC3 = rightmost 2 bytes of the
 * ISO/IEC 9797-1 algorithm 3 MAC (padding method 2) of the track data under the ICC key; CVC3 =
 * rightmost 2 bytes of TDES(ICC key, IVCVC3 ‖ UN ‖ ATC) as a decimal number (5 digits, zero
 * filled), of which the rightmost `digits` are returned.
 */
export function cvc3(input: Cvc3Input): string {
  const key = cvc3Key(input)
  const un = fromHex(input.un, 'un', 4)
  const atc = fromHex(input.atc, 'atc', 2)
  const digits = input.digits ?? 3
  if (!Number.isInteger(digits) || digits < 1 || digits > 5) {
    throw new PaymentCryptoError('invalid_argument', 'digits must be 1-5', 'digits')
  }
  let iv: Buffer
  if (input.ivCvc3 !== undefined) {
    iv = fromHex(input.ivCvc3, 'ivCvc3', 2)
  } else if (input.trackData !== undefined) {
    const mac = retailMacBytes(key, fromHex(input.trackData, 'trackData'), 2)
    iv = mac.subarray(6, 8)
  } else {
    throw new PaymentCryptoError('invalid_argument', 'trackData or ivCvc3 is required', 'trackData')
  }
  const out = tdesEcbEncrypt(key, Buffer.concat([iv, un, atc]))
  const value = out.readUInt16BE(6)
  return String(value).padStart(5, '0').slice(5 - digits)
}

/** Recomputes the CVC3 and compares in constant time. */
export function verifyCvc3(input: Cvc3Input & { cvc3: string }): boolean {
  const expected = cvc3(input)
  return isDigits(input.cvc3, 1, 5) && hexEqual(expected, input.cvc3)
}
