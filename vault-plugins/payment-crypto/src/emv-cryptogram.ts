import { tdesEcbEncrypt } from './block-cipher.js'
import { PaymentCryptoError } from './errors.js'
import { fromHex, hexEqual, keyFromHex, toHex } from './hex.js'
import { retailMacBytes, type MacPadding } from './mac.js'

/** Input to {@link applicationCryptogram}. */
export interface ApplicationCryptogramInput {
  /** 32 hex: the AC session key (or the ICC master key for schemes without a session key). */
  key: string
  /** Hex of the concatenated transaction data (CDOL1 / CDOL2 data as the scheme selects it). */
  data: string
  /** ISO/IEC 9797-1 padding: 1 = zeros (Visa CVN 10), 2 = 0x80 then zeros (EMV, default). */
  padding?: MacPadding
}

/** EMV Book 2 §8.1 / A1.2 application cryptogram (ARQC, TC, AAC): ISO/IEC 9797-1 MAC algorithm 3. */
export function applicationCryptogram(input: ApplicationCryptogramInput): string {
  const key = keyFromHex(input.key, 'key', [16])
  const data = fromHex(input.data, 'data')
  return toHex(retailMacBytes(key, data, checkPadding(input.padding ?? 2)))
}

/** Recomputes the cryptogram and compares in constant time; a malformed ARQC is false. */
export function verifyArqc(input: ApplicationCryptogramInput & { arqc: string }): boolean {
  const expected = applicationCryptogram(input)
  return typeof input.arqc === 'string' && hexEqual(expected, input.arqc)
}

/** Input to {@link arpc}. */
export type ArpcInput =
  | {
      /** EMV Book 2 §8.2.1: TDES(key, ARQC ⊕ (ARC ‖ '000000000000')), 8 bytes. */
      method: 1
      /** 32 hex. */
      key: string
      /** 16 hex. */
      arqc: string
      /** 4 hex: the 2-byte authorisation response code as sent to the card (e.g. `3030` for "00"). */
      arc: string
    }
  | {
      /** EMV Book 2 §8.2.2: MAC algorithm 3, padding method 2, over ARQC ‖ CSU ‖ proprietary data; leftmost 4 bytes. */
      method: 2
      key: string
      arqc: string
      /** 8 hex: card status update. */
      csu: string
      /** 0–16 hex: proprietary authentication data. */
      proprietaryAuthData?: string
    }

/** Buffer-level ARPC method 1. */
export function arpcMethod1Bytes(key: Buffer, arqc: Buffer, arc: Buffer): Buffer {
  const block = Buffer.from(arqc)
  block[0] = (block[0] ?? 0) ^ (arc[0] ?? 0)
  block[1] = (block[1] ?? 0) ^ (arc[1] ?? 0)
  return tdesEcbEncrypt(key, block)
}

/** Buffer-level ARPC method 2 (4 bytes). */
export function arpcMethod2Bytes(key: Buffer, arqc: Buffer, csu: Buffer, pad: Buffer): Buffer {
  return retailMacBytes(key, Buffer.concat([arqc, csu, pad]), 2).subarray(0, 4)
}

/** Authorisation response cryptogram, EMV Book 2 §8.2 method 1 or 2; returns uppercase hex. */
export function arpc(input: ArpcInput): string {
  const key = keyFromHex(input.key, 'key', [16])
  const arqc = fromHex(input.arqc, 'arqc', 8)
  switch (input.method) {
    case 1:
      return toHex(arpcMethod1Bytes(key, arqc, fromHex(input.arc, 'arc', 2)))
    case 2: {
      const pad = fromHex(input.proprietaryAuthData ?? '', 'proprietaryAuthData', [0, 1, 2, 3, 4, 5, 6, 7, 8])
      return toHex(arpcMethod2Bytes(key, arqc, fromHex(input.csu, 'csu', 4), pad))
    }
    default:
      throw new PaymentCryptoError('invalid_argument', 'method must be 1 or 2', 'method')
  }
}

function checkPadding(p: number): MacPadding {
  if (p !== 1 && p !== 2) throw new PaymentCryptoError('invalid_argument', 'padding must be 1 or 2', 'padding')
  return p
}
