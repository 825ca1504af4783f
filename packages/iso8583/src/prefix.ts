/**
 * Length prefixes (L … LLLLLL): ASCII or EBCDIC digits, packed BCD, or big-endian binary.
 * Every prefix has a fixed width, so encoders can reserve it and back-fill the length.
 */
import type { Charset } from './charsets.js'
import { decodeError, encodeError } from './errors.js'

/** A compiled length prefix. */
export interface Prefix {
  /** Bytes the prefix takes. */
  readonly width: number
  /** Largest length it can express. */
  readonly capacity: number
  /** Read the length at pos (caller checked pos + width <= end). */
  read(buf: Buffer, pos: number, path: string): number
  /** Write the length at pos (caller reserved width bytes). */
  writeAt(buf: Buffer, pos: number, n: number, path: string): void
}

/** Digits in a character set (ASCII or EBCDIC). */
export function textPrefix(cs: Charset, digits: number): Prefix {
  const zero = cs.zero
  const capacity = 10 ** digits - 1
  return {
    width: digits,
    capacity,
    read(buf, pos, path) {
      let n = 0
      for (let i = 0; i < digits; i++) {
        const d = buf[pos + i]! - zero
        if (d < 0 || d > 9) decodeError('NON_NUMERIC_LENGTH', path, pos + i, 'length prefix is not numeric')
        n = n * 10 + d
      }
      return n
    },
    writeAt(buf, pos, n, path) {
      if (n > capacity) encodeError('LENGTH_EXCEEDED', path, 'length does not fit the prefix')
      for (let i = digits - 1; i >= 0; i--) {
        buf[pos + i] = zero + (n % 10)
        n = Math.floor(n / 10)
      }
    },
  }
}

/** Packed BCD digits, right-aligned in ceil(digits/2) bytes. */
export function bcdPrefix(digits: number): Prefix {
  const width = (digits + 1) >> 1
  const capacity = 10 ** digits - 1
  return {
    width,
    capacity,
    read(buf, pos, path) {
      let n = 0
      for (let i = 0; i < width; i++) {
        const b = buf[pos + i]!
        const hi = b >> 4
        const lo = b & 15
        if (hi > 9 || lo > 9) decodeError('NON_NUMERIC_LENGTH', path, pos + i, 'BCD length prefix is not numeric')
        n = n * 100 + hi * 10 + lo
      }
      return n
    },
    writeAt(buf, pos, n, path) {
      if (n > capacity) encodeError('LENGTH_EXCEEDED', path, 'length does not fit the prefix')
      for (let i = width - 1; i >= 0; i--) {
        const two = n % 100
        buf[pos + i] = (Math.floor(two / 10) << 4) | two % 10
        n = Math.floor(n / 100)
      }
    },
  }
}

/** Big-endian unsigned binary length of 1–4 bytes. */
export function binaryPrefix(bytes: number): Prefix {
  const capacity = 2 ** (8 * bytes) - 1
  return {
    width: bytes,
    capacity,
    read(buf, pos) {
      let n = 0
      for (let i = 0; i < bytes; i++) n = n * 256 + buf[pos + i]!
      return n
    },
    writeAt(buf, pos, n, path) {
      if (n > capacity) encodeError('LENGTH_EXCEEDED', path, 'length does not fit the prefix')
      for (let i = bytes - 1; i >= 0; i--) {
        buf[pos + i] = n & 0xff
        n = Math.floor(n / 256)
      }
    },
  }
}
