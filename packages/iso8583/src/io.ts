/**
 * Low-level reader/writer state shared by the compiled codecs. Decoding threads one Reader through
 * all fields (no per-field tuples); encoding writes into one growable buffer that is reused across
 * calls and copied out once at the end.
 */

/** Decode cursor over one buffer. */
export interface Reader {
  buf: Buffer
  pos: number
}

/** Growable output buffer, reused across encodes (encoding is synchronous, so never shared mid-call). */
export class Writer {
  buf: Buffer
  pos = 0

  constructor(size = 8192) {
    this.buf = Buffer.allocUnsafeSlow(size)
  }

  /** Make room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafeSlow(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** A fresh Buffer with what was written (from `start`). */
  result(start = 0): Buffer {
    const out = Buffer.allocUnsafe(this.pos - start)
    this.buf.copy(out, 0, start, this.pos)
    return out
  }
}

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string }

const SCRATCH_SIZE = 4096
/** Scratch area where decoders write Latin-1 units before building a string in one native call. */
export const scratch: Latin1Buffer = Buffer.allocUnsafeSlow(SCRATCH_SIZE) as Latin1Buffer

/** A scratch buffer of at least n bytes (the shared one unless a field is unusually long). */
export function scratchFor(n: number): Latin1Buffer {
  return n <= SCRATCH_SIZE ? scratch : (Buffer.allocUnsafe(n) as Latin1Buffer)
}

/** Latin-1 string of buf[start, end) without Buffer.toString's argument handling. */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end)
}

const HEX_DIGITS = '0123456789ABCDEF'
/** Upper-case hex of a byte range. */
export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    s += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!
  }
  return s
}

/** Value of an upper-case hex digit's Latin-1 unit, -1 otherwise (lower case is rejected: it would not round-trip). */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1)
  for (let i = 0; i < 16; i++) t[HEX_DIGITS.charCodeAt(i)] = i
  return t
})()

/** Parse upper- or lower-case hex text into bytes; returns null when not valid hex. */
export function parseHex(s: string): Buffer | null {
  if (s.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(s)) return null
  return Buffer.from(s, 'hex')
}
