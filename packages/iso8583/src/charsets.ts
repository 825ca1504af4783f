/**
 * Single-byte character sets as 256-entry lookup tables. Decoding maps wire bytes to Latin-1 code
 * units in a scratch buffer and builds the string once, so no per-field Buffer.toString on EBCDIC.
 * Every table is a bijection over 0..255, which is what makes decode→encode byte-exact.
 */

/** IBM code page 037 (EBCDIC US/Canada): Latin-1 code point for each EBCDIC byte. */
const CP037_HEX =
  '000102039C09867F978D8E0B0C0D0E0F101112139D8508871819928F1C1D1E1F' +
  '80818283840A171B88898A8B8C050607909116939495960498999A9B14159E1A' +
  '20A0E2E4E0E1E3E5E7F1A22E3C282B7C26E9EAEBE8EDEEEFECDF21242A293BAC' +
  '2D2FC2C4C0C1C3C5C7D1A62C255F3E3FF8C9CACBC8CDCECFCC603A2340273D22' +
  'D8616263646566676869ABBBF0FDFEB1B06A6B6C6D6E6F707172AABAE6B8C6A4' +
  'B57E737475767778797AA1BFD0DDDEAE5EA3A5B7A9A7B6BCBDBE5B5DAFA8B4D7' +
  '7B414243444546474849ADF4F6F2F3F57D4A4B4C4D4E4F505152B9FBFCF9FAFF' +
  '5CF7535455565758595AB2D4D6D2D3D530313233343536373839B3DBDCD9DA9F'

/** A charset: decode table (wire byte → Latin-1 unit) and encode table (unit → wire byte, -1 if none). */
export interface Charset {
  readonly name: 'ascii' | 'cp037' | 'cp1047'
  readonly toLatin1: Uint8Array
  readonly fromLatin1: Int16Array
  /** Wire bytes of '0'..'9' (digits are contiguous in every supported charset). */
  readonly zero: number
}

function build(name: Charset['name'], toLatin1: Uint8Array): Charset {
  const fromLatin1 = new Int16Array(256).fill(-1)
  for (let b = 0; b < 256; b++) fromLatin1[toLatin1[b]!] = b
  return { name, toLatin1, fromLatin1, zero: fromLatin1[0x30]! }
}

function cp037Table(): Uint8Array {
  const t = new Uint8Array(256)
  for (let i = 0; i < 256; i++) t[i] = parseInt(CP037_HEX.slice(i * 2, i * 2 + 2), 16)
  return t
}

function cp1047Table(): Uint8Array {
  // Code page 1047 (z/OS Latin-1) differs from 037 in six positions: ^ ¬ [ ] Ý ¨.
  const t = cp037Table()
  t[0x5f] = 0x5e
  t[0xb0] = 0xac
  t[0xad] = 0x5b
  t[0xba] = 0xdd
  t[0xbb] = 0xa8
  t[0xbd] = 0x5d
  return t
}

function identity(): Uint8Array {
  const t = new Uint8Array(256)
  for (let i = 0; i < 256; i++) t[i] = i
  return t
}

/** "ASCII" on the wire is treated as Latin-1 so that any byte round-trips. */
export const ASCII: Charset = build('ascii', identity())
export const CP037: Charset = build('cp037', cp037Table())
export const CP1047: Charset = build('cp1047', cp1047Table())

export function charsetByName(name: 'ascii' | 'cp037' | 'cp1047'): Charset {
  switch (name) {
    case 'ascii':
      return ASCII
    case 'cp037':
      return CP037
    case 'cp1047':
      return CP1047
  }
}

/** Encode a JS string in an EBCDIC/ASCII charset (helper for headers and tests). */
export function encodeText(s: string, cs: Charset): Buffer {
  const out = Buffer.allocUnsafe(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const b = c < 256 ? cs.fromLatin1[c]! : -1
    if (b < 0) throw new RangeError('character not encodable in ' + cs.name)
    out[i] = b
  }
  return out
}

/** Decode bytes in a charset to a JS string. */
export function decodeText(buf: Uint8Array, cs: Charset): string {
  let s = ''
  for (let i = 0; i < buf.length; i++) s += String.fromCharCode(cs.toLatin1[buf[i]!]!)
  return s
}
