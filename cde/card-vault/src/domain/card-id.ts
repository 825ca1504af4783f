import { randomBytes } from 'node:crypto'

/** Crockford base32 alphabet (no I, L, O, U): unambiguous when read aloud or copied by hand. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'

/**
 * A new opaque card ID: `card_` + 26 base32 characters (130 random bits). Card IDs are never derived
 * from the PAN, so knowing a card ID says nothing about the card number and vice versa.
 */
export function newCardId(): string {
  const bytes = randomBytes(26)
  let out = 'card_'
  for (const b of bytes) out += ALPHABET[b & 31]
  return out
}

/** Whether `id` has the shape of a card ID (format check only). */
export function isCardId(id: string): boolean {
  return /^card_[0-9a-hjkmnp-tv-z]{26}$/.test(id)
}
