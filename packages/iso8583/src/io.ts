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

type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer
/**
 * Node's own Buffer class (FastBuffer, exposed as Buffer[Symbol.species]): constructing it directly
 * makes a Buffer view in about half the time of Buffer.from(arrayBuffer, offset, length) or subarray.
 */
const FastBuffer: ViewConstructor = (() => {
  const species = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species]
  if (typeof species === 'function') {
    try {
      const probe = new (species as ViewConstructor)(new ArrayBuffer(4), 1, 2)
      if (Buffer.isBuffer(probe) && probe.length === 2 && probe.byteOffset === 1) return species as ViewConstructor
    } catch {
      // fall back below
    }
  }
  return function view(buffer: ArrayBufferLike, byteOffset: number, length: number): Buffer {
    return Buffer.from(buffer, byteOffset, length)
  } as unknown as ViewConstructor
})()

/** A Buffer view of buf[start, end) (same memory, like subarray). */
export function view(buf: Buffer, start: number, end: number): Buffer {
  return new FastBuffer(buf.buffer, buf.byteOffset + start, end - start)
}

/**
 * Growable output buffer, reused across encodes (encoding is synchronous, so never shared mid-call).
 *
 * Messages are written one after another into a slab and handed out as views (`finish`), the way
 * Node's own Buffer pool hands out `allocUnsafe` slices: no copy per message. A view keeps its slab
 * alive, as a pooled Buffer does; the slab is replaced when it runs low, never written below `base`.
 */
export class Writer {
  buf: Buffer
  pos = 0
  /** Start of the message being written. */
  base = 0
  private readonly slabSize: number
  /** buf's ArrayBuffer, kept so that `finish` does not call the `buffer` getter (a C++ builtin) per message. */
  private ab: ArrayBufferLike

  constructor(size = 8192) {
    this.slabSize = size
    this.buf = Buffer.allocUnsafeSlow(size)
    this.ab = this.buf.buffer
  }

  /** Start a message at the next free 8-byte-aligned offset (a fresh slab when less than `room` is free). */
  begin(room: number): void {
    let base = (this.pos + 7) & ~7
    if (base + room > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(this.slabSize, room))
      this.ab = this.buf.buffer
      base = 0
    }
    this.base = base
    this.pos = base
  }

  /** Make room for n more bytes (offsets already handed to callers stay valid: everything below pos is kept in place). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafeSlow(size)
    this.buf.copy(next, this.base, this.base, this.pos)
    this.buf = next
    this.ab = next.buffer
  }

  /** The message written since `begin`, as a view of the slab (later messages are written after it). */
  finish(): Buffer {
    // Every slab comes from allocUnsafeSlow: it starts at offset 0 of its own ArrayBuffer.
    return new FastBuffer(this.ab, this.base, this.pos - this.base)
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
