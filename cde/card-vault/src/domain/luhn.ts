/** Luhn check digit for a digit string that does not yet carry one. */
export function luhnCheckDigit(payload: string): string {
  let sum = 0
  // The check digit will sit to the right, so the rightmost payload digit is doubled.
  let double = true
  for (let i = payload.length - 1; i >= 0; i--) {
    let d = payload.charCodeAt(i) - 48
    if (d < 0 || d > 9) throw new RangeError('payload must be digits')
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return String((10 - (sum % 10)) % 10)
}

/** Luhn validity of a full digit string (check digit included). */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false
  return luhnCheckDigit(digits.slice(0, -1)) === digits.slice(-1)
}
