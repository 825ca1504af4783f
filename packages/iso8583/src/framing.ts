/**
 * Length framing used on scheme TCP links, as pure functions and as a streaming splitter.
 *
 * - `binary2`: 2-byte big-endian length (Mastercard and many hosts)
 * - `vmlh`: Visa Message Length Header, 2-byte length + 2 reserved bytes
 * - `ascii4`: 4 ASCII digits
 *
 * A zero-length frame carries no message: it is reported as a keep-alive.
 */
import { Iso8583FrameError } from './errors.js'

/** Framing kinds. */
export type FramingKind = 'binary2' | 'vmlh' | 'ascii4'

/** Bytes of the length header for each framing. */
export const FRAME_HEADER_SIZE: Record<FramingKind, number> = { binary2: 2, vmlh: 4, ascii4: 4 }

const MAX_LENGTH: Record<FramingKind, number> = { binary2: 0xffff, vmlh: 0xffff, ascii4: 9999 }

function frameError(code: 'FRAME_TOO_LARGE' | 'INVALID_FRAME', offset: number, detail: string): never {
  throw new Iso8583FrameError(code, 'frame', offset, detail)
}

/** Prefix a payload with its length header. */
export function frame(kind: FramingKind, payload: Uint8Array): Buffer {
  const n = payload.length
  if (n > MAX_LENGTH[kind]) frameError('FRAME_TOO_LARGE', 0, 'payload too long for the framing')
  const h = FRAME_HEADER_SIZE[kind]
  const out = Buffer.allocUnsafe(h + n)
  switch (kind) {
    case 'binary2':
      out.writeUInt16BE(n, 0)
      break
    case 'vmlh':
      out.writeUInt16BE(n, 0)
      out.writeUInt16BE(0, 2)
      break
    case 'ascii4':
      out.write(String(n).padStart(4, '0'), 0, 'latin1')
      break
  }
  out.set(payload, h)
  return out
}

/** Read the payload length from a complete header at buf[offset]. */
export function readFrameLength(kind: FramingKind, buf: Uint8Array, offset = 0): number {
  switch (kind) {
    case 'binary2':
    case 'vmlh':
      return (buf[offset]! << 8) | buf[offset + 1]!
    case 'ascii4': {
      let n = 0
      for (let i = 0; i < 4; i++) {
        const d = buf[offset + i]! - 0x30
        if (d < 0 || d > 9) frameError('INVALID_FRAME', offset + i, 'ASCII length is not numeric')
        n = n * 10 + d
      }
      return n
    }
  }
}

/** Split one complete frame (header + payload, nothing more) into its payload. */
export function unframe(kind: FramingKind, buf: Buffer): Buffer {
  const h = FRAME_HEADER_SIZE[kind]
  if (buf.length < h) frameError('INVALID_FRAME', 0, 'shorter than the length header')
  const n = readFrameLength(kind, buf)
  if (buf.length !== h + n) frameError('INVALID_FRAME', h, 'length header does not match the frame size')
  return buf.subarray(h, h + n)
}

/** What the splitter found: a message payload or a keep-alive (zero-length frame). */
export type FrameEvent = { type: 'message'; payload: Buffer } | { type: 'keepalive' }

/** Options of a FrameSplitter. */
export interface FrameSplitterOptions {
  kind: FramingKind
  /** Largest payload accepted; a bigger announced length throws FRAME_TOO_LARGE (close the link). Default 8192. */
  maxFrameSize?: number
}

/**
 * Streaming splitter for a TCP socket: `push` each chunk, get the complete frames it finished.
 * Partial data is kept as a list of chunks; nothing is allocated for an announced length until the
 * whole frame has arrived, so a hostile length cannot make it allocate.
 */
export class FrameSplitter {
  readonly kind: FramingKind
  readonly maxFrameSize: number
  private readonly headerSize: number
  private chunks: Buffer[] = []
  private buffered = 0

  constructor(opts: FrameSplitterOptions) {
    this.kind = opts.kind
    this.maxFrameSize = opts.maxFrameSize ?? 8192
    this.headerSize = FRAME_HEADER_SIZE[opts.kind]
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffered
  }

  /** Feed a chunk; returns the frames completed by it, in order. */
  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = []
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    for (;;) {
      if (this.buffered < this.headerSize) break
      const header = this.peek(this.headerSize)
      const n = readFrameLength(this.kind, header)
      if (n > this.maxFrameSize) frameError('FRAME_TOO_LARGE', 0, 'announced frame length over the limit')
      if (this.buffered < this.headerSize + n) break
      this.consume(this.headerSize)
      events.push(n === 0 ? { type: 'keepalive' } : { type: 'message', payload: this.consume(n) })
    }
    return events
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!
    if (first.length >= n) return first.subarray(0, n)
    // Only the header bytes are gathered; the payload chunks are never copied while waiting.
    const out = Buffer.allocUnsafe(n)
    let p = 0
    for (const c of this.chunks) {
      const take = Math.min(c.length, n - p)
      c.copy(out, p, 0, take)
      p += take
      if (p === n) break
    }
    return out
  }

  private consume(n: number): Buffer {
    this.buffered -= n
    const first = this.chunks[0]!
    if (first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      return out
    }
    const out = Buffer.allocUnsafe(n)
    let p = 0
    while (p < n) {
      const c = this.chunks[0]!
      const take = Math.min(c.length, n - p)
      c.copy(out, p, 0, take)
      p += take
      if (take === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(take)
    }
    return out
  }
}
