/**
 * Body codecs of primitive fields: how `units` of content map to bytes and back, per type and
 * encoding. Chosen once at compile time; the hot loops only touch lookup tables and one scratch
 * buffer per string.
 */
import { type Charset, ASCII } from './charsets.js'
import { decodeError, encodeError } from './errors.js'
import { HEX_VALUE, latin1, parseHex, scratchFor, type Writer } from './io.js'
import type { FieldValue } from './message-types.js'
import type { FieldType } from './spec-types.js'

/** A compiled primitive body. */
export interface Body {
  /** Wire bytes taken by `units` length units. */
  bytes(units: number): number
  /** Units held by `nbytes` wire bytes, -1 if that byte count is impossible. */
  unitsFromBytes(nbytes: number): number
  read(buf: Buffer, pos: number, units: number, path: string): FieldValue
  /** Units the value occupies; also checks the JS type. */
  units(v: FieldValue, path: string): number
  /** Write exactly bytes(units) bytes (v already has `units` units). */
  write(v: FieldValue, units: number, w: Writer, path: string): void
}

/** Strings up to this length are built by concatenation; longer ones with one native call. */
const SHORT = 12
const CHARS: readonly string[] = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i))
const HEXCH = '0123456789ABCDEF'
/** Two-digit strings per packed byte; undefined where a nibble is above 9. */
export const DIGIT_PAIRS: readonly (string | undefined)[] = Array.from({ length: 256 }, (_, b) => (b >> 4 < 10 && (b & 15) < 10 ? HEXCH[b >> 4]! + HEXCH[b & 15]! : undefined))
/** Two hex characters per byte (type z allows nibbles A–F). */
const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, b) => HEXCH[b >> 4]! + HEXCH[b & 15]!)

function concatChars(chars: readonly string[], buf: Buffer, start: number, end: number): string {
  let s = ''
  for (let i = start; i < end; i++) s += chars[buf[i]!]!
  return s
}

function concatMapped(to: Uint8Array, buf: Buffer, start: number, end: number): string {
  let s = ''
  for (let i = start; i < end; i++) s += CHARS[to[buf[i]!]!]!
  return s
}

/** Nibble value of a digit character (-1 otherwise); the hex variant adds A–F and '=' (as D). */
const DIGIT_NIBBLE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) t[48 + i] = i
  return t
})()
const HEX_NIBBLE: Int8Array = (() => {
  const t = Int8Array.from(DIGIT_NIBBLE)
  for (let i = 0; i < 6; i++) t[65 + i] = 10 + i
  t[0x3d] = 0xd
  return t
})()

function nibble(table: Int8Array, s: string, i: number, path: string): number {
  const c = s.charCodeAt(i)
  const d = c < 128 ? table[c]! : -1
  if (d < 0) encodeError('INVALID_CHARACTER', path, 'character not allowed in BCD field')
  return d
}

function nibbleChar(d: number, hexNibbles: boolean, path: string, offset: number): string {
  if (d > 9 && !hexNibbles) decodeError('INVALID_BCD_NIBBLE', path, offset, 'BCD nibble above 9')
  return HEXCH[d]!
}

function expectString(v: FieldValue, path: string): string {
  if (typeof v !== 'string') encodeError('INVALID_VALUE', path, 'expected a string')
  return v
}

/** Character-per-byte text (ASCII/Latin-1 or EBCDIC). `numeric` restricts content to digits. */
export function textBody(cs: Charset, numeric: boolean): Body {
  const to = cs.toLatin1
  const from = cs.fromLatin1
  const zero = cs.zero
  const isAscii = cs === ASCII
  return {
    bytes: (u) => u,
    unitsFromBytes: (n) => n,
    read(buf, pos, u, path) {
      const end = pos + u
      if (numeric) {
        for (let i = pos; i < end; i++) {
          const c = to[buf[i]!]!
          if (c < 0x30 || c > 0x39) decodeError('INVALID_CHARACTER', path, i, 'non-digit in numeric field')
        }
      }
      if (isAscii) return u <= SHORT ? concatChars(CHARS, buf, pos, end) : latin1(buf, pos, end)
      if (u <= SHORT) return concatMapped(to, buf, pos, end)
      const s = scratchFor(u)
      for (let i = pos, j = 0; i < end; i++, j++) s[j] = to[buf[i]!]!
      return s.latin1Slice(0, u)
    },
    units: (v, path) => expectString(v, path).length,
    write(v, u, w, path) {
      const s = v as string
      w.ensure(u)
      const out = w.buf
      let p = w.pos
      if (numeric) {
        for (let i = 0; i < u; i++) {
          const d = s.charCodeAt(i) - 0x30
          if (d < 0 || d > 9) encodeError('INVALID_CHARACTER', path, 'non-digit in numeric field')
          out[p++] = zero + d
        }
      } else if (isAscii) {
        for (let i = 0; i < u; i++) {
          const c = s.charCodeAt(i)
          if (c > 255) encodeError('INVALID_CHARACTER', path, 'character not encodable')
          out[p++] = c
        }
      } else {
        for (let i = 0; i < u; i++) {
          const c = s.charCodeAt(i)
          if (c > 255) encodeError('INVALID_CHARACTER', path, 'character not encodable')
          out[p++] = from[c]!
        }
      }
      w.pos = p
    },
  }
}

/**
 * Packed BCD. `digitUnits` false means lengths count bytes (then the value holds every nibble).
 * `hexNibbles` (type z) allows nibbles A–F, shown as letters; '=' is accepted on encode as D.
 */
export function bcdBody(opts: { leftJustify: boolean; pad: number; hexNibbles: boolean; digitUnits: boolean }): Body {
  const { leftJustify, pad, hexNibbles, digitUnits } = opts
  const val = hexNibbles ? HEX_NIBBLE : DIGIT_NIBBLE
  const table = hexNibbles ? HEX_PAIRS : DIGIT_PAIRS
  return {
    bytes: digitUnits ? (u) => (u + 1) >> 1 : (u) => u,
    unitsFromBytes: digitUnits ? (n) => n * 2 : (n) => n,
    read(buf, pos, u, path) {
      const digits = digitUnits ? u : u * 2
      const nb = (digits + 1) >> 1
      let first = pos
      let last = pos + nb
      let head = ''
      let tail = ''
      if (digits & 1) {
        // One pad nibble: high nibble of the first byte (right-justified) or low nibble of the last.
        if (leftJustify) {
          const b = buf[--last]!
          if ((b & 15) !== pad) decodeError('INVALID_BCD_PAD', path, last, 'unexpected BCD pad nibble')
          tail = nibbleChar(b >> 4, hexNibbles, path, last)
        } else {
          const b = buf[first]!
          if (b >> 4 !== pad) decodeError('INVALID_BCD_PAD', path, first, 'unexpected BCD pad nibble')
          head = nibbleChar(b & 15, hexNibbles, path, first)
          first++
        }
      }
      let s = head
      for (let i = first; i < last; i++) {
        const p = table[buf[i]!]
        if (p === undefined) decodeError('INVALID_BCD_NIBBLE', path, i, 'BCD nibble above 9')
        s += p
      }
      return s + tail
    },
    units(v, path) {
      if (typeof v !== 'string') return encodeError('INVALID_VALUE', path, 'expected a string')
      return digitUnits ? v.length : (v.length + 1) >> 1
    },
    write(v, u, w, path) {
      const s = v as string
      const nb = digitUnits ? (u + 1) >> 1 : u
      const len = s.length
      if (w.pos + nb > w.buf.length) w.ensure(nb)
      const out = w.buf
      let p = w.pos
      let i = 0
      let last = len
      // Odd lengths get one pad nibble: first when right-justified, last when left-justified.
      if (len & 1) {
        if (leftJustify) last = len - 1
        else out[p++] = (pad << 4) | nibble(val, s, i++, path)
      }
      for (; i < last; i += 2) {
        const hi = s.charCodeAt(i) - 0x30
        const lo = s.charCodeAt(i + 1) - 0x30
        // Fast path for two digits; letters (type z) and errors go through the table.
        if (hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9) out[p++] = (hi << 4) | lo
        else out[p++] = (nibble(val, s, i, path) << 4) | nibble(val, s, i + 1, path)
      }
      if (last !== len) out[p++] = (nibble(val, s, last, path) << 4) | pad
      w.pos = p
    },
  }
}

/** Raw bytes. */
export function binaryBody(): Body {
  return {
    bytes: (u) => u,
    unitsFromBytes: (n) => n,
    read: (buf, pos, u) => buf.subarray(pos, pos + u),
    units(v, path) {
      if (typeof v === 'string') {
        if (v.length % 2 !== 0 || parseHex(v) === null) encodeError('INVALID_HEX', path, 'binary value given as invalid hex')
        return v.length / 2
      }
      if (v instanceof Uint8Array) return v.length
      return encodeError('INVALID_VALUE', path, 'expected bytes or hex')
    },
    write(v, u, w) {
      w.ensure(u)
      if (typeof v === 'string') w.buf.write(v, w.pos, u, 'hex')
      else w.buf.set(v as Uint8Array, w.pos)
      w.pos += u
    },
  }
}

/** Binary data carried as upper-case hex text. `charUnits`: lengths count hex characters. */
export function hexTextBody(cs: Charset, charUnits: boolean): Body {
  const to = cs.toLatin1
  const from = cs.fromLatin1
  const raw = binaryBody()
  const bytesOf = charUnits ? (u: number) => u >> 1 : (u: number) => u
  return {
    bytes: charUnits ? (u) => u : (u) => u * 2,
    unitsFromBytes: charUnits ? (n) => n : (n) => (n & 1 ? -1 : n >> 1),
    read(buf, pos, u, path) {
      if (charUnits && u & 1) decodeError('INVALID_LENGTH', path, pos, 'odd number of hex characters')
      const n = bytesOf(u)
      const out = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) {
        const h = HEX_VALUE[to[buf[pos + 2 * i]!]!]!
        const l = HEX_VALUE[to[buf[pos + 2 * i + 1]!]!]!
        if (h < 0 || l < 0) decodeError('INVALID_HEX', path, pos + 2 * i, 'not upper-case hex')
        out[i] = (h << 4) | l
      }
      return out
    },
    units(v, path) {
      const n = raw.units(v, path)
      return charUnits ? n * 2 : n
    },
    write(v, u, w) {
      const n = bytesOf(u)
      const bytes = typeof v === 'string' ? Buffer.from(v, 'hex') : (v as Uint8Array)
      w.ensure(n * 2)
      const H = '0123456789ABCDEF'
      for (let i = 0; i < n; i++) {
        const b = bytes[i]!
        w.buf[w.pos++] = from[H.charCodeAt(b >> 4)]!
        w.buf[w.pos++] = from[H.charCodeAt(b & 15)]!
      }
    },
  }
}

/** `x+n`: a C/D sign character (in `signCs`) followed by the digits body. Units count digits. */
export function signedBody(signCs: Charset, digits: Body): Body {
  const C = signCs.fromLatin1[0x43]!
  const D = signCs.fromLatin1[0x44]!
  return {
    bytes: (u) => 1 + digits.bytes(u),
    unitsFromBytes: (n) => (n < 1 ? -1 : digits.unitsFromBytes(n - 1)),
    read(buf, pos, u, path) {
      const b = buf[pos]!
      if (b !== C && b !== D) decodeError('INVALID_CHARACTER', path, pos, 'amount sign must be C or D')
      return (b === C ? 'C' : 'D') + (digits.read(buf, pos + 1, u, path) as string)
    },
    units(v, path) {
      const s = expectString(v, path)
      if (s.length < 1) encodeError('INVALID_VALUE', path, 'missing amount sign')
      return s.length - 1
    },
    write(v, u, w, path) {
      const s = v as string
      const sign = s.charCodeAt(0)
      if (sign !== 0x43 && sign !== 0x44) encodeError('INVALID_CHARACTER', path, 'amount sign must be C or D')
      w.ensure(1)
      w.buf[w.pos++] = sign === 0x43 ? C : D
      digits.write(s.slice(1), u, w, path)
    },
  }
}

/** Types whose text content must be digits. */
export function isNumericType(t: FieldType): boolean {
  return t === 'n'
}
