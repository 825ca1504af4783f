import { PaymentCryptoError } from './errors.js'

const HEX_RE = /^[0-9A-Fa-f]*$/
const DIGITS_RE = /^[0-9]*$/

/** Decodes a hex string (either case) of even length; `bytes` constrains the decoded length. */
export function fromHex(value: string, field: string, bytes?: number | readonly number[]): Buffer {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !HEX_RE.test(value)) {
    throw new PaymentCryptoError('invalid_hex', `${field} must be an even-length hex string`, field)
  }
  const buf = Buffer.from(value, 'hex')
  if (bytes !== undefined) {
    const allowed = typeof bytes === 'number' ? [bytes] : bytes
    if (!allowed.includes(buf.length)) {
      throw new PaymentCryptoError('invalid_argument', `${field} must be ${allowed.join(' or ')} bytes`, field)
    }
  }
  return buf
}

/** Decodes a key, checking its length against the lengths the algorithm accepts. */
export function keyFromHex(value: string, field: string, bytes: readonly number[]): Buffer {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !HEX_RE.test(value)) {
    throw new PaymentCryptoError('invalid_hex', `${field} must be an even-length hex string`, field)
  }
  const buf = Buffer.from(value, 'hex')
  if (!bytes.includes(buf.length)) {
    throw new PaymentCryptoError('invalid_key_length', `${field} must be ${bytes.join(', ')} bytes long`, field)
  }
  return buf
}

/** Uppercase hex of a buffer. */
export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex').toUpperCase()
}

/** True when `value` is a string of decimal digits with a length in [min, max]. */
export function isDigits(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max && DIGITS_RE.test(value)
}

/** Validates a PAN (12–19 digits; the Luhn digit is not checked: test PANs often fail it). */
export function checkPan(pan: unknown, field = 'pan', min = 12): string {
  if (!isDigits(pan, min, 19)) {
    throw new PaymentCryptoError('invalid_pan', `${field} must be ${min}-19 digits`, field)
  }
  return pan
}

/** XOR of two equal-length buffers into a new buffer. */
export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0)
  return out
}

/** Constant-time comparison of two hex strings (case-insensitive); false on length mismatch. */
export function hexEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a.charCodeAt(i) | 0x20) ^ (b.charCodeAt(i) | 0x20)
  return diff === 0
}
