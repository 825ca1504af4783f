import { PaymentCryptoError } from './errors.js'
import { isDigits } from './hex.js'

function luhnSum(digits: string, doubleFirstFromRight: boolean): number {
  let sum = 0
  let double = doubleFirstFromRight
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum
}

/** ISO/IEC 7812-1 Annex B (Luhn mod 10): the check digit to append to `partial` (1–18 digits). */
export function luhnCheckDigit(partial: string): string {
  if (!isDigits(partial, 1, 18)) {
    throw new PaymentCryptoError('invalid_pan', 'partial must be 1-18 digits', 'partial')
  }
  return String((10 - (luhnSum(partial, true) % 10)) % 10)
}

/** ISO/IEC 7812-1 Luhn check over a full number (2–19 digits); false for non-digit input. */
export function isLuhnValid(number: string): boolean {
  if (!isDigits(number, 2, 19)) return false
  return luhnSum(number, false) % 10 === 0
}
