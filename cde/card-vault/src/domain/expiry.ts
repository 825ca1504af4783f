/** Card expiry as printed: month and two-digit year, and the YYMM form the card keys use. */
export interface Expiry {
  month: number
  /** Four-digit year. */
  year: number
}

/** Expiry `validityMonths` after `issuedAt` (cards expire at the end of the printed month). */
export function expiryFor(issuedAt: Date, validityMonths: number): Expiry {
  const total = issuedAt.getUTCFullYear() * 12 + issuedAt.getUTCMonth() + validityMonths
  return { month: (total % 12) + 1, year: Math.floor(total / 12) }
}

/** YYMM, as encoded on track data and used for CVV computation. */
export function yymm(e: Expiry): string {
  return `${String(e.year % 100).padStart(2, '0')}${String(e.month).padStart(2, '0')}`
}

/** Whether a card with this expiry is still valid at `now` (valid through the last day of the month). */
export function expiryValid(e: Expiry, now: Date): boolean {
  const nowIndex = now.getUTCFullYear() * 12 + now.getUTCMonth()
  return nowIndex <= e.year * 12 + (e.month - 1)
}

/** Parse YYMM (20YY assumed, as every card scheme does for current cards). */
export function parseYymm(v: string): Expiry | undefined {
  if (!/^\d{4}$/.test(v)) return undefined
  const month = Number(v.slice(2))
  if (month < 1 || month > 12) return undefined
  return { month, year: 2000 + Number(v.slice(0, 2)) }
}
