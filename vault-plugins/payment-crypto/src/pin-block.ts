import { randomBytes } from 'node:crypto'
import { aesEcbDecrypt, aesEcbEncrypt, tdesEcbDecrypt, tdesEcbEncrypt } from './block-cipher.js'
import { PaymentCryptoError } from './errors.js'
import { fromHex, isDigits, keyFromHex, toHex, xor } from './hex.js'

/** ISO 9564-1 PIN block formats: 0, 1, 2, 3 (8-byte, TDES) and 4 (16-byte, AES). */
export type PinBlockFormat = 0 | 1 | 2 | 3 | 4

const HEX = '0123456789ABCDEF'

function checkFormat(format: unknown): PinBlockFormat {
  if (format === 0 || format === 1 || format === 2 || format === 3 || format === 4) return format
  throw new PaymentCryptoError('unsupported_format', 'format must be 0, 1, 2, 3 or 4', 'format')
}

function checkPin(pin: unknown): string {
  if (!isDigits(pin, 4, 12)) throw new PaymentCryptoError('invalid_pin', 'pin must be 4-12 digits', 'pin')
  return pin
}

function needsPan(format: PinBlockFormat): boolean {
  return format === 0 || format === 3 || format === 4
}

/** Format 0/3 PAN field: '0000' ‖ the 12 rightmost PAN digits excluding the check digit. */
function panField8(pan: string | undefined): Buffer {
  if (!isDigits(pan, 13, 19)) throw new PaymentCryptoError('invalid_pan', 'pan must be 13-19 digits', 'pan')
  return Buffer.from('0000' + pan.slice(-13, -1), 'hex')
}

/**
 * ISO 9564-1:2017 format 4 plain-text PAN field (16 bytes): M (PAN length − 12, 0 for shorter
 * PANs) ‖ PAN left-filled with zeros to 12 digits ‖ zeros to 32 nibbles.
 */
export function pinBlockPanField4(pan: string): string {
  if (!isDigits(pan, 1, 19)) throw new PaymentCryptoError('invalid_pan', 'pan must be 1-19 digits', 'pan')
  return (String(Math.max(0, pan.length - 12)) + pan.padStart(12, '0')).padEnd(32, '0')
}

function randomNibbles(count: number, alphabet: 'hex' | 'a-f'): string {
  const bytes = randomBytes(count)
  let out = ''
  for (let i = 0; i < count; i++) {
    const b = bytes[i] ?? 0
    out += alphabet === 'hex' ? HEX[b & 0x0f] : HEX[10 + (b % 6)]
  }
  return out
}

/** Input to {@link encodePinBlock}. */
export interface EncodePinBlockInput {
  format: PinBlockFormat
  /** 4–12 digits. */
  pin: string
  /** Required for format 0 and 3 (13–19 digits); not used by format 4's clear PIN field (see {@link encryptPinBlock}). */
  pan?: string
}

/**
 * Builds the clear PIN block (ISO 9564-1): formats 0–3 return 16 hex (for 0 and 3 already XORed
 * with the PAN field); format 4 returns the 32-hex plain-text PIN field (4 ‖ N ‖ PIN ‖ 'A' fill ‖
 * 8 random bytes). Format 4's PAN is bound only at encipherment, so it goes to encryptPinBlock.
 * Random fill (formats 1, 3, 4) comes from crypto.randomBytes.
 */
export function encodePinBlock(input: EncodePinBlockInput): string {
  const format = checkFormat(input.format)
  const pin = checkPin(input.pin)
  const head = String(format) + HEX[pin.length] + pin
  switch (format) {
    case 0:
      return toHex(xor(Buffer.from(head.padEnd(16, 'F'), 'hex'), panField8(input.pan)))
    case 1:
      return head + randomNibbles(16 - head.length, 'hex')
    case 2:
      return head.padEnd(16, 'F')
    case 3:
      return toHex(xor(Buffer.from(head + randomNibbles(16 - head.length, 'a-f'), 'hex'), panField8(input.pan)))
    case 4:
      return head.padEnd(16, 'A') + randomNibbles(16, 'hex')
  }
}

/** Input to {@link decodePinBlock}. */
export interface DecodePinBlockInput {
  format: PinBlockFormat
  /** Clear block: 16 hex (formats 0–3) or the 32-hex plain-text PIN field (format 4). */
  block: string
  /** Required for formats 0 and 3. */
  pan?: string
}

function badBlock(message: string): PaymentCryptoError {
  return new PaymentCryptoError('invalid_pin_block', message, 'block')
}

/** Extracts the PIN from a clear PIN block, checking control field, length, digits and fill. */
export function decodePinBlock(input: DecodePinBlockInput): string {
  const format = checkFormat(input.format)
  let clear = fromHex(input.block, 'block', format === 4 ? 16 : 8)
  if (format === 0 || format === 3) clear = xor(clear, panField8(input.pan))
  const nibbles = toHex(clear)
  if (nibbles[0] !== String(format)) throw badBlock('PIN block control field does not match the format')
  const n = parseInt(nibbles[1] ?? 'F', 16)
  if (n < 4 || n > 12) throw badBlock('PIN block length field must be 4-12')
  const pin = nibbles.slice(2, 2 + n)
  if (!isDigits(pin, n, n)) throw badBlock('PIN block PIN field is not numeric')
  const fill = nibbles.slice(2 + n, 16)
  const fillOk =
    format === 0 || format === 2 ? /^F*$/.test(fill) : format === 3 ? /^[A-F]*$/.test(fill) : format === 4 ? /^A*$/.test(fill) : true
  if (!fillOk) throw badBlock('PIN block fill is not valid for the format')
  return pin
}

/** Input to {@link encryptPinBlock}. */
export interface EncryptPinBlockInput {
  /** Formats 0–3: 32 or 48 hex TDES key. Format 4: 32, 48 or 64 hex AES key. */
  key: string
  /** Clear block as {@link encodePinBlock} returns it. */
  clearBlock: string
  format: PinBlockFormat
  /** Format 4 only (1–19 digits): the PAN field is bound during encipherment. */
  pan?: string
}

/**
 * Enciphers a clear PIN block. Formats 0–3: TDES-ECB. Format 4 (ISO 9564-1:2017 §9.4.2):
 * A = AES(K, PIN field); B = A ⊕ PAN field; result = AES(K, B).
 */
export function encryptPinBlock(input: EncryptPinBlockInput): string {
  const format = checkFormat(input.format)
  if (format === 4) {
    const key = keyFromHex(input.key, 'key', [16, 24, 32])
    const clear = fromHex(input.clearBlock, 'clearBlock', 16)
    const panField = Buffer.from(pinBlockPanField4(requirePan(input.pan)), 'hex')
    return toHex(aesEcbEncrypt(key, xor(aesEcbEncrypt(key, clear), panField)))
  }
  const key = keyFromHex(input.key, 'key', [16, 24])
  return toHex(tdesEcbEncrypt(key, fromHex(input.clearBlock, 'clearBlock', 8)))
}

/** Input to {@link decryptPinBlock}. */
export interface DecryptPinBlockInput {
  key: string
  /** Enciphered block: 16 hex (formats 0–3) or 32 hex (format 4). */
  block: string
  format: PinBlockFormat
  /** Format 4 only. */
  pan?: string
}

/** Deciphers a PIN block back to its clear block (format 4: the plain-text PIN field). */
export function decryptPinBlock(input: DecryptPinBlockInput): string {
  const format = checkFormat(input.format)
  if (format === 4) {
    const key = keyFromHex(input.key, 'key', [16, 24, 32])
    const block = fromHex(input.block, 'block', 16)
    const panField = Buffer.from(pinBlockPanField4(requirePan(input.pan)), 'hex')
    return toHex(aesEcbDecrypt(key, xor(aesEcbDecrypt(key, block), panField)))
  }
  const key = keyFromHex(input.key, 'key', [16, 24])
  return toHex(tdesEcbDecrypt(key, fromHex(input.block, 'block', 8)))
}

function requirePan(pan: string | undefined): string {
  if (pan === undefined) throw new PaymentCryptoError('invalid_pan', 'pan is required for format 4', 'pan')
  return pan
}

/** Input to {@link translatePinBlock}. */
export interface TranslatePinBlockInput {
  sourceKey: string
  destKey: string
  /** Enciphered source block. */
  block: string
  sourceFormat: PinBlockFormat
  destFormat: PinBlockFormat
  /** Needed whenever either format uses the PAN (0, 3, 4). */
  pan?: string
}

/**
 * Re-enciphers a PIN block from one key/format to another (an HSM's translate command): decrypt,
 * validate and extract the PIN, re-encode (fresh random fill), encrypt. The PIN never leaves.
 */
export function translatePinBlock(input: TranslatePinBlockInput): string {
  const sourceFormat = checkFormat(input.sourceFormat)
  const destFormat = checkFormat(input.destFormat)
  if ((needsPan(sourceFormat) || needsPan(destFormat)) && input.pan === undefined) {
    throw new PaymentCryptoError('invalid_pan', 'pan is required for these formats', 'pan')
  }
  const clear = decryptPinBlock({ key: input.sourceKey, block: input.block, format: sourceFormat, pan: input.pan })
  const pin = decodePinBlock({ format: sourceFormat, block: clear, pan: input.pan })
  const destClear = encodePinBlock({ format: destFormat, pin, pan: input.pan })
  return encryptPinBlock({ key: input.destKey, clearBlock: destClear, format: destFormat, pan: input.pan })
}
