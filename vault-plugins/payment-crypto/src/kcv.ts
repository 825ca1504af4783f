import { tdesEcbEncrypt } from './block-cipher.js'
import { PaymentCryptoError } from './errors.js'
import { keyFromHex, toHex } from './hex.js'
import { cmacBytes } from './mac.js'

/** Options for {@link kcv}. */
export interface KcvOptions {
  algorithm: 'tdes' | 'aes'
  /** Number of hex digits (default 6; at most 16 for TDES, 32 for AES). */
  length?: number
}

/**
 * Key check value. TDES (ANSI X9.24-1): the leftmost digits of the key's encryption of eight zero
 * bytes. AES (ANSI X9.24-1:2017 / ASC X9 TR-31 practice): the leftmost digits of the AES-CMAC of
 * sixteen zero bytes — encrypting zeros with an AES key would leak a usable known plaintext pair.
 */
export function kcv(key: string, options: KcvOptions): string {
  const length = options.length ?? 6
  if (options.algorithm === 'tdes') {
    const k = keyFromHex(key, 'key', [8, 16, 24])
    checkLength(length, 16)
    return toHex(tdesEcbEncrypt(k, Buffer.alloc(8))).slice(0, length)
  }
  if (options.algorithm === 'aes') {
    const k = keyFromHex(key, 'key', [16, 24, 32])
    checkLength(length, 32)
    return toHex(cmacBytes('aes', k, Buffer.alloc(16))).slice(0, length)
  }
  throw new PaymentCryptoError('invalid_argument', 'algorithm must be tdes or aes', 'algorithm')
}

function checkLength(length: number, max: number): void {
  if (!Number.isInteger(length) || length < 2 || length > max) {
    throw new PaymentCryptoError('invalid_argument', `length must be an integer from 2 to ${max}`, 'length')
  }
}
