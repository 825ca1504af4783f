import { PaymentCryptoError } from './errors.js'

/** TR-31 / ANSI X9.143 key block version: A and C key variant binding (TDES), B TDES key derivation, D AES key derivation. */
export type Tr31Version = 'A' | 'B' | 'C' | 'D'

/** An optional header block: a 2-character ID (e.g. `KS`, `KC`, `TS`) and its printable ASCII data. */
export interface Tr31OptionalBlock {
  id: string
  data: string
}

/** The key block header fields (ANSI X9.143 §6.2). */
export interface Tr31Header {
  version: Tr31Version
  /** 2 characters, e.g. `P0` PIN encryption, `K0` key encryption, `C0` CVK, `V2` PVK, `E0` EMV IMK-AC, `M3` retail MAC, `B0` BDK. */
  keyUsage: string
  /** 1 character: `T` TDES, `A` AES, `D` DES, `H` HMAC, … */
  algorithm: string
  /** 1 character: `E` encrypt, `D` decrypt, `B` both, `N` none, `C` generate+verify, `G`, `V`, `X`, `Y`. */
  modeOfUse: string
  /** 2 characters (default `00`). */
  keyVersionNumber?: string
  /** 1 character: `E` exportable under a trusted key, `N` non-exportable, `S` sensitive. */
  exportability: string
  /** Optional blocks in order; a `PB` padding block is added or stripped automatically. */
  optionalBlocks?: Tr31OptionalBlock[]
}

const ALNUM1 = /^[0-9A-Z]$/
const ALNUM2 = /^[0-9A-Z]{2}$/
const PRINTABLE = /^[\x20-\x7E]*$/

export function badHeader(message: string): PaymentCryptoError {
  return new PaymentCryptoError('tr31_bad_header', message, 'header')
}

/** Cipher block size of a version: 16 for D (AES), 8 otherwise. */
export function blockSize(version: Tr31Version): number {
  return version === 'D' ? 16 : 8
}

/**
 * Serialises a header (with its length field set from `totalLength`) and pads the optional
 * blocks with `PB` to a multiple of the block size.
 */
export function encodeHeader(h: Tr31Header, bodyLength: number): string {
  if (h.version !== 'A' && h.version !== 'B' && h.version !== 'C' && h.version !== 'D') {
    throw new PaymentCryptoError('tr31_unsupported_version', 'version must be A, B, C or D', 'version')
  }
  const kvn = h.keyVersionNumber ?? '00'
  if (!ALNUM2.test(h.keyUsage)) throw badHeader('keyUsage must be 2 uppercase alphanumerics')
  if (!ALNUM1.test(h.algorithm)) throw badHeader('algorithm must be 1 uppercase alphanumeric')
  if (!ALNUM1.test(h.modeOfUse)) throw badHeader('modeOfUse must be 1 uppercase alphanumeric')
  if (!ALNUM2.test(kvn)) throw badHeader('keyVersionNumber must be 2 alphanumerics')
  if (!ALNUM1.test(h.exportability)) throw badHeader('exportability must be 1 uppercase alphanumeric')
  const blocks = (h.optionalBlocks ?? []).filter((b) => b.id !== 'PB')
  let opt = ''
  for (const b of blocks) {
    if (!/^[0-9A-Z]{2}$/.test(b.id)) throw badHeader('optional block id must be 2 uppercase alphanumerics')
    if (!PRINTABLE.test(b.data)) throw badHeader('optional block data must be printable ASCII')
    const len = b.data.length + 4
    if (len <= 0xff) {
      opt += b.id + len.toString(16).toUpperCase().padStart(2, '0') + b.data
    } else {
      // Extended length: '00', then the length of the length in bytes ('02'), then the total
      // block length in 4 hex characters (X9.143 §6.3).
      const extLen = b.data.length + 10
      opt += b.id + '0002' + extLen.toString(16).toUpperCase().padStart(4, '0') + b.data
      if (extLen > 0xffff) throw badHeader('optional block is too long')
    }
  }
  let count = blocks.length
  const bs = blockSize(h.version)
  if (count > 0) {
    let padLen = (bs - ((16 + opt.length) % bs)) % bs
    if (padLen > 0 && padLen < 4) padLen += bs
    if (padLen > 0) {
      opt += 'PB' + padLen.toString(16).toUpperCase().padStart(2, '0') + '0'.repeat(padLen - 4)
      count++
    }
  }
  if (count > 99) throw badHeader('too many optional blocks')
  const total = 16 + opt.length + bodyLength
  if (total > 9999) throw new PaymentCryptoError('tr31_bad_length', 'key block would exceed 9999 characters', 'key')
  return (
    h.version +
    String(total).padStart(4, '0') +
    h.keyUsage +
    h.algorithm +
    h.modeOfUse +
    kvn +
    h.exportability +
    String(count).padStart(2, '0') +
    '00' +
    opt
  )
}

/** Parses the header at the start of a key block; returns the header and its length in characters. */
export function decodeHeader(block: string): { header: Tr31Header; headerLength: number; totalLength: number } {
  if (block.length < 16 || !PRINTABLE.test(block)) throw badHeader('key block header is too short or not printable')
  const version = block[0]
  if (version !== 'A' && version !== 'B' && version !== 'C' && version !== 'D') {
    throw new PaymentCryptoError('tr31_unsupported_version', 'key block version must be A, B, C or D', 'version')
  }
  const lengthField = block.slice(1, 5)
  if (!/^\d{4}$/.test(lengthField)) throw badHeader('key block length field must be 4 digits')
  const totalLength = Number(lengthField)
  const keyUsage = block.slice(5, 7)
  const algorithm = block.slice(7, 8)
  const modeOfUse = block.slice(8, 9)
  const keyVersionNumber = block.slice(9, 11)
  const exportability = block.slice(11, 12)
  const countField = block.slice(12, 14)
  if (!ALNUM2.test(keyUsage) || !ALNUM1.test(algorithm) || !ALNUM1.test(modeOfUse) || !ALNUM2.test(keyVersionNumber) || !ALNUM1.test(exportability)) {
    throw badHeader('key block header fields are malformed')
  }
  if (!/^\d{2}$/.test(countField)) throw badHeader('optional block count must be 2 digits')
  let pos = 16
  const optionalBlocks: Tr31OptionalBlock[] = []
  for (let i = 0; i < Number(countField); i++) {
    const id = block.slice(pos, pos + 2)
    if (!ALNUM2.test(id)) throw badHeader('optional block id is malformed')
    const lenField = block.slice(pos + 2, pos + 4)
    if (!/^[0-9A-F]{2}$/.test(lenField)) throw badHeader('optional block length is malformed')
    let len = parseInt(lenField, 16)
    let dataStart = pos + 4
    if (len === 0) {
      const lenLenField = block.slice(pos + 4, pos + 6)
      if (!/^[0-9A-F]{2}$/.test(lenLenField)) throw badHeader('optional block length of length is malformed')
      // The length of the length counts bytes, each written as two hex characters.
      const lenChars = parseInt(lenLenField, 16) * 2
      const ext = block.slice(pos + 6, pos + 6 + lenChars)
      if (lenChars === 0 || ext.length !== lenChars || !/^[0-9A-F]+$/.test(ext)) throw badHeader('optional block extended length is malformed')
      len = parseInt(ext, 16)
      dataStart = pos + 6 + lenChars
    }
    if (len < dataStart - pos || pos + len > block.length) throw badHeader('optional block length is out of range')
    optionalBlocks.push({ id, data: block.slice(dataStart, pos + len) })
    pos += len
  }
  if (pos % blockSize(version) !== 0) throw badHeader('header length is not a multiple of the block size')
  const header: Tr31Header = {
    version,
    keyUsage,
    algorithm,
    modeOfUse,
    keyVersionNumber,
    exportability,
    optionalBlocks: optionalBlocks.filter((b) => b.id !== 'PB'),
  }
  return { header, headerLength: pos, totalLength }
}

/**
 * Common ANSI X9.143 key usage codes, for callers mapping their key types to headers (the header
 * itself accepts any two uppercase alphanumerics, as the standard allows proprietary codes).
 */
export const TR31_KEY_USAGES = {
  B0: 'BDK base derivation key',
  C0: 'card verification key (CVK, CVC3 IMK)',
  D0: 'symmetric data encryption key',
  E0: 'EMV/chip issuer master key: application cryptograms (IMK-AC)',
  E1: 'EMV/chip issuer master key: secure messaging for confidentiality (IMK-SMC)',
  E2: 'EMV/chip issuer master key: secure messaging for integrity (IMK-SMI)',
  E6: 'EMV/chip issuer master key: other (e.g. dynamic CVC3)',
  K0: 'key encryption or wrapping (ZMK)',
  K1: 'TR-31 key block protection key (KBPK)',
  M3: 'ISO 9797-1 MAC algorithm 3 key',
  M6: 'ISO 9797-1:2011 MAC algorithm 5 / CMAC key',
  M7: 'HMAC key',
  P0: 'PIN encryption key (ZPK, PEK)',
  V1: 'PIN verification key, IBM 3624',
  V2: 'PIN verification key, Visa PVV',
} as const
