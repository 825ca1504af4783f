import { aesCbcEncrypt, aesEcbEncrypt, tdesCbcEncrypt, tdesEcb, tdesEcbEncrypt, type EcbFn } from './block-cipher.js'
import { PaymentCryptoError } from './errors.js'
import { fromHex, keyFromHex, toHex, xor } from './hex.js'

/** ISO/IEC 9797-1 padding method: 1 = zeros, 2 = 0x80 then zeros. */
export type MacPadding = 1 | 2

/** Pads `data` to a multiple of `block` bytes with ISO/IEC 9797-1 padding method 1 or 2. */
export function padIso9797(data: Buffer, padding: MacPadding, block = 8): Buffer {
  if (padding === 2) {
    const len = (Math.floor(data.length / block) + 1) * block
    const out = Buffer.alloc(len)
    data.copy(out)
    out[data.length] = 0x80
    return out
  }
  // Method 1 leaves already-aligned data alone; empty data becomes one zero block.
  const len = data.length === 0 ? block : Math.ceil(data.length / block) * block
  if (len === data.length) return data
  const out = Buffer.alloc(len)
  data.copy(out)
  return out
}

/**
 * ISO/IEC 9797-1 MAC algorithm 3 (the ANSI X9.19 "retail MAC") over a 16-byte key K‖K':
 * single-DES CBC-MAC under K, then the last block decrypted under K' and encrypted under K.
 * Returns the full 8-byte MAC.
 */
export function retailMacBytes(key: Buffer, data: Buffer, padding: MacPadding): Buffer {
  const padded = padIso9797(data, padding, 8)
  const last = padded.subarray(padded.length - 8)
  let chain: Buffer
  if (padded.length === 8) {
    chain = last
  } else {
    // The CBC chain of every block but the last under single-DES K, then the final block goes
    // through E_K(D_K'(E_K(x))), which is exactly two-key TDES encryption of chain ⊕ last.
    const head = tdesCbcEncrypt(key.subarray(0, 8), padded.subarray(0, padded.length - 8))
    chain = xor(head.subarray(head.length - 8), last)
  }
  return tdesEcbEncrypt(key, chain)
}

/** Prepared ISO/IEC 9797-1 algorithm 3 under one key: two reusable ECB contexts (single-DES K, TDES K‖K'). */
export interface RetailMacKey {
  mac(data: Buffer, padding: MacPadding): Buffer
  /** Two-key TDES-ECB encryption under K‖K' (the same context the final MAC step uses). */
  encrypt: EcbFn
}

/** Prepares a retail-MAC key for repeated use by a long-lived holder (see createCvvContext). */
export function prepareRetailMacKey(key: Buffer): RetailMacKey {
  const single = tdesEcb(key.subarray(0, 8))
  const triple = tdesEcb(key)
  return {
    mac(data, padding) {
      const padded = padIso9797(data, padding, 8)
      const n = padded.length / 8
      const chain = Buffer.alloc(8)
      for (let b = 0; b < n - 1; b++) {
        for (let i = 0; i < 8; i++) chain[i] = (chain[i] ?? 0) ^ (padded[b * 8 + i] ?? 0)
        single(chain).copy(chain)
      }
      for (let i = 0; i < 8; i++) chain[i] = (chain[i] ?? 0) ^ (padded[(n - 1) * 8 + i] ?? 0)
      return triple(chain)
    },
    encrypt: triple,
  }
}

function shiftLeft(block: Buffer, rb: number): Buffer {
  const out = Buffer.allocUnsafe(block.length)
  let carry = 0
  for (let i = block.length - 1; i >= 0; i--) {
    const b = block[i] ?? 0
    out[i] = ((b << 1) | carry) & 0xff
    carry = b >> 7
  }
  if ((block[0] ?? 0) & 0x80) out[block.length - 1] = (out[block.length - 1] ?? 0) ^ rb
  return out
}

/** NIST SP 800-38B CMAC with TDES (8/16/24-byte key, 64-bit block) or AES (128-bit block). */
export function cmacBytes(algorithm: 'tdes' | 'aes', key: Buffer, data: Buffer): Buffer {
  const bs = algorithm === 'aes' ? 16 : 8
  const rb = algorithm === 'aes' ? 0x87 : 0x1b
  const zero = Buffer.alloc(bs)
  const l = algorithm === 'aes' ? aesEcbEncrypt(key, zero) : tdesEcbEncrypt(key, zero)
  const k1 = shiftLeft(l, rb)
  const complete = data.length > 0 && data.length % bs === 0
  const n = complete ? data.length / bs : Math.floor(data.length / bs) + 1
  const m = Buffer.alloc(n * bs)
  data.copy(m)
  const subkey = complete ? k1 : shiftLeft(k1, rb)
  if (!complete) m[data.length] = 0x80
  const lastStart = (n - 1) * bs
  for (let i = 0; i < bs; i++) m[lastStart + i] = (m[lastStart + i] ?? 0) ^ (subkey[i] ?? 0)
  const out = algorithm === 'aes' ? aesCbcEncrypt(key, m) : tdesCbcEncrypt(key, m)
  return out.subarray(out.length - bs)
}

/** Input to {@link retailMac}. */
export interface RetailMacInput {
  /** 32 hex: K‖K' (double-length DES key). */
  key: string
  /** Message as hex. */
  data: string
  /** ISO/IEC 9797-1 padding method (default 1). */
  padding?: MacPadding
  /** MAC length in bytes, 4–8 (default 8): the leftmost bytes are kept. */
  length?: number
}

/** ISO/IEC 9797-1 MAC algorithm 3 (retail MAC, ANSI X9.19), returns uppercase hex. */
export function retailMac(input: RetailMacInput): string {
  const key = keyFromHex(input.key, 'key', [16])
  const data = fromHex(input.data, 'data')
  const padding = input.padding ?? 1
  if (padding !== 1 && padding !== 2) {
    throw new PaymentCryptoError('invalid_argument', 'padding must be 1 or 2', 'padding')
  }
  const length = checkLength(input.length ?? 8, 4, 8)
  return toHex(retailMacBytes(key, data, padding).subarray(0, length))
}

/** Input to {@link cmac}. */
export interface CmacInput {
  /** TDES: 16 or 24 bytes (hex); AES: 16, 24 or 32 bytes (hex). */
  key: string
  /** Message as hex (may be empty). */
  data: string
  algorithm: 'tdes' | 'aes'
  /** Tag length in bytes (default: the full block, 8 for TDES, 16 for AES). */
  length?: number
}

/** NIST SP 800-38B CMAC over TDES or AES, returns uppercase hex. */
export function cmac(input: CmacInput): string {
  const algorithm = input.algorithm
  if (algorithm !== 'tdes' && algorithm !== 'aes') {
    throw new PaymentCryptoError('invalid_argument', 'algorithm must be tdes or aes', 'algorithm')
  }
  const key = keyFromHex(input.key, 'key', algorithm === 'aes' ? [16, 24, 32] : [16, 24])
  const data = fromHex(input.data, 'data')
  const bs = algorithm === 'aes' ? 16 : 8
  const length = checkLength(input.length ?? bs, 4, bs)
  return toHex(cmacBytes(algorithm, key, data).subarray(0, length))
}

function checkLength(length: number, min: number, max: number): number {
  if (!Number.isInteger(length) || length < min || length > max) {
    throw new PaymentCryptoError('invalid_argument', `length must be an integer from ${min} to ${max}`, 'length')
  }
  return length
}
