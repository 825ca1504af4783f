/**
 * PAN guard: the main cluster must never receive a card number. Every body crossing towards group 0
 * is searched for a Luhn-valid 13–19 digit run (contiguous or in card-style groups), with the same
 * detector the log scrubber uses, so "what the logs would mask" and "what the proxy blocks" agree.
 */
import { luhnValid, maskPan, scrubPan } from '@cardplane/service-kit'

/**
 * The Visa transaction identifier (DE 62.2) is 15 digits and passes the Luhn check about one time in
 * ten, so an unexempted guard would block one real authorisation in ten. Only the unified format's two
 * fields that carry it are exempt, and only with exactly 15 digits: Visa and Mastercard PANs are 13 or
 * 16–19 digits, so no card this platform issues fits, and any other field or length is still scanned.
 */
const SCHEME_TRANSACTION_ID = /"(schemeTransactionId|originalSchemeTransactionId)"(\s*):(\s*)"\d{15}"/g

function guardText(body: Buffer | string): string {
  let text = typeof body === 'string' ? body : body.toString('latin1')
  // JSON may spell digits as \u0030..\u0039 escapes; fold them back so they cannot hide a PAN.
  if (text.includes('\\u003')) text = text.replace(/\\u003([0-9])/gi, '$1')
  return text.replace(SCHEME_TRANSACTION_ID, '"$1"$2:$3""')
}

/** Whether `body` (decoded as latin1 so every byte maps to one char) holds something that looks like a PAN. */
export function containsPan(body: Buffer | string): boolean {
  const text = guardText(body)
  return scrubPan(text) !== text
}

const CANDIDATES = /(?<!\d)\d{13,19}(?!\d)|(?<!\d)\d{4,6}(?:[ -]\d{3,6}){2,}(?!\d)/g

/**
 * Masked forms (first 6 / last 4) of the PAN-like runs in `body`, for the log line that records a
 * block. Best effort and bounded; {@link containsPan} is the decision.
 */
export function maskedPans(body: Buffer | string, max = 5): string[] {
  const text = guardText(body)
  const out: string[] = []
  for (const m of text.matchAll(CANDIDATES)) {
    const digits = m[0].replace(/\D/g, '')
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) continue
    out.push(maskPan(digits))
    if (out.length >= max) break
  }
  return out
}
