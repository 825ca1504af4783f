import { createHash } from 'node:crypto'
import { adjustParity, tdesEcbEncrypt, type EcbFn } from './block-cipher.js'
import { decimalizeHex } from './decimalize.js'
import { PaymentCryptoError } from './errors.js'
import { checkPan, fromHex, isDigits, keyFromHex, toHex } from './hex.js'

/** EMV Book 2 Annex A1.4 master key derivation option. */
export type IccDerivationOption = 'A' | 'B'

/** Input to {@link iccMasterKey}. */
export interface IccMasterKeyInput {
  /** 32 hex: issuer master key (IMK-AC, IMK-SMI, IMK-SMC or IMK-CVC3). */
  imk: string
  /** 12–19 digits. */
  pan: string
  /** 2 digits, PAN sequence number (5F34), default `00`. */
  psn?: string
  option: IccDerivationOption
}

function derivationY(pan: string, psn: string, option: IccDerivationOption): Buffer {
  // Option B only differs for PANs longer than 16 digits (EMV Book 2 A1.4.2).
  if (option === 'A' || pan.length <= 16) {
    return Buffer.from((pan + psn).slice(-16).padStart(16, '0'), 'hex')
  }
  const digits = pan + psn
  const bcd = Buffer.from(digits.length % 2 ? '0' + digits : digits, 'hex')
  const digest = createHash('sha1').update(bcd).digest('hex').toUpperCase()
  return Buffer.from(decimalizeHex(digest, 16), 'hex')
}

/** Buffer-level ICC master key derivation used by the profiles. */
export function iccMasterKeyBytes(imk: Buffer | EcbFn, pan: string, psn: string, option: IccDerivationOption): Buffer {
  checkPan(pan)
  if (!isDigits(psn, 2, 2)) throw new PaymentCryptoError('invalid_argument', 'psn must be 2 digits', 'psn')
  if (option !== 'A' && option !== 'B') {
    throw new PaymentCryptoError('invalid_argument', 'option must be A or B', 'option')
  }
  const y = derivationY(pan, psn, option)
  const block = Buffer.allocUnsafe(16)
  y.copy(block)
  for (let i = 0; i < 8; i++) block[8 + i] = (y[i] ?? 0) ^ 0xff
  // One 16-byte ECB call computes both halves: ZL = TDES(Y), ZR = TDES(Y ⊕ 'FF..FF').
  return adjustParity(typeof imk === 'function' ? imk(block) : tdesEcbEncrypt(imk, block))
}

/**
 * EMV Book 2 Annex A1.4 ICC master key derivation (option A: rightmost 16 digits of PAN‖PSN;
 * option B: SHA-1 decimalisation for PANs over 16 digits). Returns the parity-adjusted key.
 */
export function iccMasterKey(input: IccMasterKeyInput): string {
  const imk = keyFromHex(input.imk, 'imk', [16])
  return toHex(iccMasterKeyBytes(imk, input.pan, input.psn ?? '00', input.option))
}

/** Buffer-level EMV common session key derivation (EMV Book 2 A1.3): R is 8 bytes. */
export function commonSessionKeyBytes(iccMk: Buffer | EcbFn, r: Buffer): Buffer {
  const block = Buffer.allocUnsafe(16)
  r.copy(block, 0)
  r.copy(block, 8)
  block[2] = 0xf0
  block[10] = 0x0f
  return adjustParity(typeof iccMk === 'function' ? iccMk(block) : tdesEcbEncrypt(iccMk, block))
}

/** Buffer-level Visa secure messaging session key: MK ⊕ (ATC right-aligned / inverted ATC). */
export function visaSmSessionKeyBytes(iccMk: Buffer, atc: Buffer): Buffer {
  const out = Buffer.from(iccMk)
  out[6] = (out[6] ?? 0) ^ (atc[0] ?? 0)
  out[7] = (out[7] ?? 0) ^ (atc[1] ?? 0)
  out[14] = (out[14] ?? 0) ^ ((atc[0] ?? 0) ^ 0xff)
  out[15] = (out[15] ?? 0) ^ ((atc[1] ?? 0) ^ 0xff)
  return adjustParity(out)
}

/**
 * Buffer-level EMV2000 tree derivation (EMV 4.0 Book 2 Annex A1.3.1):
 * F(X, Y, j) = TDES_X(Y_L ⊕ j) ‖ TDES_X(Y_R ⊕ j ⊕ 'F0'); IK(i, j) = F(IK(i-1, j div b), IK(i-2, j div b²), j mod b)
 * with IK(0,0) = ICC MK and IK(-1,0) = IV; SK = IK(H, ATC) ⊕ IK(H-2, ATC div b²).
 */
export function emv2000TreeSessionKeyBytes(
  iccMk: Buffer,
  atc: number,
  height: number,
  branchFactor: number,
  iv: Buffer,
): Buffer {
  const f = (x: Buffer, y: Buffer, j: number): Buffer => {
    const block = Buffer.from(y)
    block[7] = (block[7] ?? 0) ^ j
    block[15] = (block[15] ?? 0) ^ j ^ 0xf0
    return tdesEcbEncrypt(x, block)
  }
  // Walk from the root: level i's node index is ATC div b^(H-i).
  let grandparent = iv
  let parent = iccMk
  for (let level = 1; level < height; level++) {
    const index = Math.floor(atc / branchFactor ** (height - level))
    const next = f(parent, grandparent, index % branchFactor)
    grandparent = parent
    parent = next
  }
  const leaf = f(parent, grandparent, atc % branchFactor)
  const sk = Buffer.allocUnsafe(16)
  for (let i = 0; i < 16; i++) sk[i] = (leaf[i] ?? 0) ^ (grandparent[i] ?? 0)
  return adjustParity(sk)
}

/** Input to {@link sessionKey}. */
export type SessionKeyInput =
  | {
      /**
       * EMV common session key derivation (EMV Book 2 A1.3). Diversification value R: `r`
       * (16 hex) if given; else ATC ‖ '0000' ‖ UN when `un` is given (Mastercard M/Chip); else
       * ATC ‖ '000000000000' (Visa CVN 18/22).
       */
      method: 'emv-common'
      /** 32 hex: ICC master key. */
      iccMk: string
      r?: string
      /** 4 hex. */
      atc?: string
      /** 8 hex: unpredictable number. */
      un?: string
    }
  | {
      /** Visa secure messaging key (VIS): MK_L ⊕ (00..00 ‖ ATC), MK_R ⊕ (00..00 ‖ ¬ATC). */
      method: 'visa-sm'
      iccMk: string
      /** 4 hex. */
      atc: string
    }
  | {
      /** EMV2000 tree derivation (EMV 4.0 Book 2 A1.3.1), defaults height 8, branch factor 4, IV zeros. */
      method: 'emv2000-tree'
      iccMk: string
      /** 4 hex. */
      atc: string
      height?: number
      branchFactor?: number
      /** 32 hex. */
      iv?: string
    }

/** Builds the 8-byte R for the common session key from the input's options. */
export function commonR(atcHex: string | undefined, unHex: string | undefined, rHex: string | undefined): Buffer {
  if (rHex !== undefined) return fromHex(rHex, 'r', 8)
  if (atcHex === undefined) {
    throw new PaymentCryptoError('invalid_argument', 'r or atc is required', 'atc')
  }
  const atc = fromHex(atcHex, 'atc', 2)
  const r = Buffer.alloc(8)
  atc.copy(r, 0)
  if (unHex !== undefined) fromHex(unHex, 'un', 4).copy(r, 4)
  return r
}

/** Derives an EMV session key from an ICC master key; returns 32 hex (parity adjusted). */
export function sessionKey(input: SessionKeyInput): string {
  const iccMk = keyFromHex(input.iccMk, 'iccMk', [16])
  switch (input.method) {
    case 'emv-common':
      return toHex(commonSessionKeyBytes(iccMk, commonR(input.atc, input.un, input.r)))
    case 'visa-sm':
      return toHex(visaSmSessionKeyBytes(iccMk, fromHex(input.atc, 'atc', 2)))
    case 'emv2000-tree': {
      const height = input.height ?? 8
      const branchFactor = input.branchFactor ?? 4
      if (!Number.isInteger(height) || height < 2 || height > 16) {
        throw new PaymentCryptoError('invalid_argument', 'height must be an integer from 2 to 16', 'height')
      }
      if (!Number.isInteger(branchFactor) || branchFactor < 2 || branchFactor > 16) {
        throw new PaymentCryptoError('invalid_argument', 'branchFactor must be an integer from 2 to 16', 'branchFactor')
      }
      // Every ATC value must map to its own leaf.
      if (branchFactor ** height < 0xffff) {
        throw new PaymentCryptoError('invalid_argument', 'branchFactor^height must cover every ATC value', 'height')
      }
      const atc = fromHex(input.atc, 'atc', 2).readUInt16BE(0)
      const iv = input.iv === undefined ? Buffer.alloc(16) : fromHex(input.iv, 'iv', 16)
      return toHex(emv2000TreeSessionKeyBytes(iccMk, atc, height, branchFactor, iv))
    }
    default:
      throw new PaymentCryptoError('invalid_argument', 'unknown session key method', 'method')
  }
}
