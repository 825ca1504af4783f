/**
 * Which cardholder-chosen PINs the issuer accepts. Enforced by the card vault (the PIN-set page at
 * proxy-public only shows the answer), for clear PINs and for PIN blocks alike.
 *
 * - Length 4 to 12 digits: the range ISO 9564-1 allows for a PIN.
 * - Refused as guessable, after Bonneau, Preibusch and Anderson, "A birthday present every eleven
 *   wallets? The security of customer-chosen banking PINs" (Financial Cryptography 2012), whose survey
 *   and leaked-PIN data put 1234, 1111, 0000, 1212, 7777, 4321, 2222, ... at the top and who recommend
 *   a blocklist of the most popular choices:
 *   - every digit the same (0000, 1111, 777777);
 *   - an ascending or descending run of consecutive digits (0123, 1234, 3456789, 4321, 9876);
 *   - a two-digit pair repeated (1212, 6969, 252525).
 * Dates (MMDD, DDMM, 19YY) are the next most popular class in that study; refusing them would refuse a
 * large share of all four-digit PINs, so they are allowed and the page advises against them.
 */

/** Why a PIN is refused (stable codes the page maps to a message). */
export type PinRefusal = 'pin_format' | 'pin_weak'

/** Undefined when the PIN is acceptable, else the reason. Never echoes the PIN. */
export function pinRefusal(pin: string): PinRefusal | undefined {
  if (!/^\d{4,12}$/.test(pin)) return 'pin_format'
  const d = [...pin].map(Number)
  const same = d.every((x) => x === d[0])
  const up = d.every((x, i) => i === 0 || x === d[i - 1]! + 1)
  const down = d.every((x, i) => i === 0 || x === d[i - 1]! - 1)
  const pair = d.length % 2 === 0 && d.every((x, i) => x === d[i % 2])
  return same || up || down || pair ? 'pin_weak' : undefined
}

/** Refused PIN-set attempts a session allows before it is used up. */
export const PIN_SET_MAX_ATTEMPTS = 5
