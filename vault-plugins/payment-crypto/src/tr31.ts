import { randomBytes, timingSafeEqual } from 'node:crypto'
import { aesCbcDecrypt, aesCbcEncrypt, tdesCbcDecrypt, tdesCbcEncrypt } from './block-cipher.js'
import { PaymentCryptoError } from './errors.js'
import { fromHex, keyFromHex, toHex } from './hex.js'
import { cmacBytes } from './mac.js'
import { blockSize, decodeHeader, encodeHeader, type Tr31Header, type Tr31Version } from './tr31-header.js'

export type { Tr31Header, Tr31OptionalBlock, Tr31Version } from './tr31-header.js'
export { TR31_KEY_USAGES } from './tr31-header.js'

interface BindingKeys {
  kbek: Buffer
  kbak: Buffer
}

function kbpkLengths(version: Tr31Version): number[] {
  switch (version) {
    case 'A':
    case 'C':
      return [8, 16, 24]
    case 'B':
      return [16, 24]
    case 'D':
      return [16, 24, 32]
  }
}

/**
 * KBPK → (encryption key, authentication key), ANSI X9.143 §7:
 * A/C: variants KBPK ⊕ 0x45… and KBPK ⊕ 0x4D…;
 * B: TDES-CMAC(KBPK, counter ‖ usage ‖ 00 ‖ algorithm ‖ length) per 8 bytes of key (usage 0000 enc, 0001 MAC);
 * D: the same with AES-CMAC, truncated to the KBPK length.
 */
function deriveKeys(version: Tr31Version, kbpk: Buffer): BindingKeys {
  if (version === 'A' || version === 'C') {
    const kbek = Buffer.allocUnsafe(kbpk.length)
    const kbak = Buffer.allocUnsafe(kbpk.length)
    for (let i = 0; i < kbpk.length; i++) {
      kbek[i] = (kbpk[i] ?? 0) ^ 0x45
      kbak[i] = (kbpk[i] ?? 0) ^ 0x4d
    }
    return { kbek, kbak }
  }
  const aes = version === 'D'
  const [alg, bits, calls] = aes
    ? kbpk.length === 16
      ? [0x0002, 128, 1]
      : kbpk.length === 24
        ? [0x0003, 192, 2]
        : [0x0004, 256, 2]
    : kbpk.length === 16
      ? [0x0000, 128, 2]
      : [0x0001, 192, 3]
  const derive = (usage: number): Buffer => {
    const parts: Buffer[] = []
    for (let counter = 1; counter <= calls; counter++) {
      const input = Buffer.alloc(8)
      input[0] = counter
      input.writeUInt16BE(usage, 1)
      input[3] = 0
      input.writeUInt16BE(alg, 4)
      input.writeUInt16BE(bits, 6)
      parts.push(cmacBytes(aes ? 'aes' : 'tdes', kbpk, input))
    }
    return Buffer.concat(parts).subarray(0, kbpk.length)
  }
  return { kbek: derive(0x0000), kbak: derive(0x0001) }
}

function macLength(version: Tr31Version): number {
  return version === 'D' ? 16 : version === 'B' ? 8 : 4
}

/** A/C: TDES CBC-MAC (ISO/IEC 9797-1 algorithm 1) over header ‖ encrypted key, leftmost 4 bytes. */
function variantMac(kbak: Buffer, header: string, encrypted: Buffer): Buffer {
  const out = tdesCbcEncrypt(kbak, Buffer.concat([Buffer.from(header, 'ascii'), encrypted]))
  return out.subarray(out.length - 8, out.length - 4)
}

/** B/D: CMAC over header ‖ clear key data. */
function derivationMac(version: Tr31Version, kbak: Buffer, header: string, clear: Buffer): Buffer {
  return cmacBytes(version === 'D' ? 'aes' : 'tdes', kbak, Buffer.concat([Buffer.from(header, 'ascii'), clear]))
}

/** Input to {@link tr31Wrap}. */
export interface Tr31WrapInput {
  /** Key block protection key (hex): A/C 8/16/24 bytes TDES, B 16/24 bytes TDES, D 16/24/32 bytes AES. */
  kbpk: string
  /** The key to protect (hex). */
  key: string
  header: Tr31Header
  /**
   * Pads the key data as if the key were this many bytes, hiding its true length. Default: 24
   * for algorithm `T`, 32 for `A`, otherwise the key's own length.
   */
  maskedKeyLength?: number
}

/** Wraps a key in an ANSI X9.143 (TR-31) key block; returns the ASCII key block. */
export function tr31Wrap(input: Tr31WrapInput): string {
  const version = input.header.version
  if (version !== 'A' && version !== 'B' && version !== 'C' && version !== 'D') {
    throw new PaymentCryptoError('tr31_unsupported_version', 'version must be A, B, C or D', 'version')
  }
  const kbpk = keyFromHex(input.kbpk, 'kbpk', kbpkLengths(version))
  const key = fromHex(input.key, 'key')
  if (key.length === 0 || key.length > 64) throw new PaymentCryptoError('invalid_key_length', 'key must be 1-64 bytes', 'key')
  const masked = input.maskedKeyLength ?? (input.header.algorithm === 'T' ? 24 : input.header.algorithm === 'A' ? 32 : key.length)
  if (!Number.isInteger(masked) || masked > 64) throw new PaymentCryptoError('invalid_argument', 'maskedKeyLength must be an integer up to 64', 'maskedKeyLength')
  const bs = blockSize(version)
  const dataLength = Math.ceil((2 + Math.max(masked, key.length)) / bs) * bs
  const clear = Buffer.concat([Buffer.alloc(2), key, randomBytes(dataLength - 2 - key.length)])
  clear.writeUInt16BE(key.length * 8, 0)
  const ml = macLength(version)
  const header = encodeHeader(input.header, (dataLength + ml) * 2)
  const { kbek, kbak } = deriveKeys(version, kbpk)
  if (version === 'A' || version === 'C') {
    const encrypted = tdesCbcEncrypt(kbek, clear, Buffer.from(header.slice(0, 8), 'ascii'))
    return header + toHex(encrypted) + toHex(variantMac(kbak, header, encrypted))
  }
  const mac = derivationMac(version, kbak, header, clear)
  const encrypted = version === 'D' ? aesCbcEncrypt(kbek, clear, mac) : tdesCbcEncrypt(kbek, clear, mac)
  return header + toHex(encrypted) + toHex(mac)
}

/** Result of {@link tr31Unwrap}. */
export interface Tr31UnwrapResult {
  header: Tr31Header
  /** The protected key, uppercase hex. */
  key: string
}

function badLength(message: string): PaymentCryptoError {
  return new PaymentCryptoError('tr31_bad_length', message, 'keyBlock')
}

/**
 * Unwraps an ANSI X9.143 (TR-31) key block. The MAC is verified before any key material is
 * returned; a wrong KBPK or a tampered block throws `tr31_mac_mismatch`.
 */
export function tr31Unwrap(input: { kbpk: string; keyBlock: string }): Tr31UnwrapResult {
  const block = input.keyBlock
  if (typeof block !== 'string') throw badLength('keyBlock must be a string')
  const { header, headerLength, totalLength } = decodeHeader(block)
  if (totalLength !== block.length) throw badLength('key block length field does not match its length')
  const version = header.version
  const kbpk = keyFromHex(input.kbpk, 'kbpk', kbpkLengths(version))
  const bs = blockSize(version)
  const macHex = block.slice(block.length - macLength(version) * 2)
  const dataHex = block.slice(headerLength, block.length - macHex.length)
  if (!/^[0-9A-F]+$/.test(macHex) || !/^[0-9A-F]*$/.test(dataHex)) throw badLength('key block body must be uppercase hex')
  if (dataHex.length === 0 || dataHex.length % (bs * 2) !== 0) throw badLength('encrypted key data length is not a multiple of the block size')
  const headerText = block.slice(0, headerLength)
  const encrypted = Buffer.from(dataHex, 'hex')
  const received = Buffer.from(macHex, 'hex')
  const { kbek, kbak } = deriveKeys(version, kbpk)
  let clear: Buffer
  if (version === 'A' || version === 'C') {
    if (!timingSafeEqual(variantMac(kbak, headerText, encrypted), received)) throw macMismatch()
    clear = tdesCbcDecrypt(kbek, encrypted, Buffer.from(headerText.slice(0, 8), 'ascii'))
  } else {
    clear = version === 'D' ? aesCbcDecrypt(kbek, encrypted, received) : tdesCbcDecrypt(kbek, encrypted, received)
    if (!timingSafeEqual(derivationMac(version, kbak, headerText, clear), received)) throw macMismatch()
  }
  const bits = clear.readUInt16BE(0)
  if (bits === 0 || bits % 8 !== 0 || bits / 8 > clear.length - 2) {
    throw new PaymentCryptoError('tr31_bad_key_data', 'key length inside the key block is invalid', 'keyBlock')
  }
  return { header, key: toHex(clear.subarray(2, 2 + bits / 8)) }
}

function macMismatch(): PaymentCryptoError {
  return new PaymentCryptoError('tr31_mac_mismatch', 'key block MAC does not verify (wrong KBPK or altered block)', 'keyBlock')
}
