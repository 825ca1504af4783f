/**
 * PAN allocation. A program owns a BIN (6–8 digits), a PAN length, and an account-number range
 * inside the BIN. Each range has a counter in PostgreSQL that only moves forward (see the card
 * store), so a sequence number is handed out once, ever. The sequence number is mapped to an account
 * number by an affine permutation of the range (a bijection: distinct sequence numbers give distinct
 * account numbers), so consecutive cards do not get consecutive, guessable PANs. The check digit is
 * Luhn.
 */
import { luhnCheckDigit } from './luhn.js'

/** What allocation needs to know about a program's range. */
export interface PanRange {
  /** Issuer BIN / IIN prefix, 6–8 digits. */
  bin: string
  /** Total PAN length including the check digit (13–19). */
  panLength: number
  /** First account number of the range (inclusive), as a decimal string. */
  accountStart: string
  /** Number of account numbers in the range. */
  size: bigint
}

/** Thrown when a range's definition is impossible (a configuration error). */
export class PanRangeError extends Error {
  readonly code = 'pan_range_invalid'
}

/** Digits available for the account number: PAN length minus BIN minus the check digit. */
export function accountDigits(range: Pick<PanRange, 'bin' | 'panLength'>): number {
  return range.panLength - range.bin.length - 1
}

/** Validate a range; throws PanRangeError. */
export function validateRange(range: PanRange): void {
  if (!/^\d{6,8}$/.test(range.bin)) throw new PanRangeError('BIN must be 6-8 digits')
  if (!Number.isInteger(range.panLength) || range.panLength < 13 || range.panLength > 19) {
    throw new PanRangeError('PAN length must be 13-19')
  }
  const digits = accountDigits(range)
  if (digits < 1) throw new PanRangeError('no room for an account number')
  if (!/^\d+$/.test(range.accountStart)) throw new PanRangeError('account start must be digits')
  const start = BigInt(range.accountStart)
  if (range.size < 1n) throw new PanRangeError('range must hold at least one account')
  if (start + range.size > 10n ** BigInt(digits)) throw new PanRangeError('range exceeds the account digits')
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

/**
 * Multiplier of the permutation for a range: a fixed large odd constant made coprime with the range
 * size, so seq -> (m * seq + c) mod size is a bijection on [0, size).
 */
export function permutationMultiplier(size: bigint): bigint {
  if (size <= 2n) return 1n
  let m = (0x9e3779b97f4a7c15n % size) | 1n
  while (gcd(m, size) !== 1n) m = (m + 2n) % size
  return m === 0n ? 1n : m
}

/** Account number for sequence number `seq` (0-based, < size), zero-padded to the account digits. */
export function accountForSequence(range: PanRange, seq: bigint): string {
  if (seq < 0n || seq >= range.size) throw new PanRangeError('range exhausted')
  const m = permutationMultiplier(range.size)
  const c = range.size > 1n ? 0x2545f4914f6cdd1dn % range.size : 0n
  const offset = (m * seq + c) % range.size
  return (BigInt(range.accountStart) + offset).toString().padStart(accountDigits(range), '0')
}

/** The PAN for sequence number `seq`: BIN + account number + Luhn check digit. */
export function panForSequence(range: PanRange, seq: bigint): string {
  const payload = range.bin + accountForSequence(range, seq)
  return payload + luhnCheckDigit(payload)
}
