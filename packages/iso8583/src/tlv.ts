/**
 * BER-TLV as used in EMV (DE 55): multi-byte tags, short and long-form lengths, constructed tags.
 * A constructed value that does not parse as TLV (malformed or proprietary template) is kept as
 * opaque bytes, and non-minimal length encodings are remembered, so encodeTlv(decodeTlv(x)) === x.
 */
import { Iso8583DecodeError, Iso8583EncodeError } from './errors.js'
import { toHex } from './io.js'

/** One TLV element. `value` for primitive (or opaque constructed) elements, `children` for parsed templates. */
export interface TlvNode {
  /** Tag as upper-case hex, e.g. "9F26". */
  tag: string
  value?: Buffer
  children?: TlvNode[]
  /** Set when the wire used a longer length encoding than necessary (number of length bytes). */
  lengthBytes?: number
  /** Set on a constructed tag whose content was not valid TLV and is kept as bytes. */
  opaque?: true
}

const MAX_DEPTH = 16

function fail(code: 'TLV_TRUNCATED' | 'TLV_LENGTH_OVERFLOW' | 'TLV_INVALID_TAG', path: string, offset: number, detail: string): never {
  throw new Iso8583DecodeError(code, path, offset, detail)
}

function minimalLengthBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5
}

function parse(buf: Uint8Array, start: number, end: number, path: string, base: number, depth: number): TlvNode[] {
  const out: TlvNode[] = []
  let p = start
  while (p < end) {
    const tagStart = p
    let tagLen = 1
    if ((buf[p]! & 0x1f) === 0x1f) {
      // Subsequent tag bytes carry bit 8 = "more bytes follow"; EMV tags are at most 3 bytes, allow 4.
      do {
        if (p + tagLen >= end) fail('TLV_TRUNCATED', path, base + p, 'data ends inside a tag')
        tagLen++
      } while (buf[p + tagLen - 1]! & 0x80 && tagLen < 4)
      if (buf[p + tagLen - 1]! & 0x80) fail('TLV_INVALID_TAG', path, base + p, 'tag longer than 4 bytes')
    }
    const tag = toHex(buf.subarray(p, p + tagLen))
    const constructed = (buf[p]! & 0x20) !== 0
    p += tagLen
    if (p >= end) fail('TLV_TRUNCATED', `${path}.${tag}`, base + p, 'data ends before the length')
    let len = buf[p]!
    let lenBytes = 1
    if (len & 0x80) {
      const n = len & 0x7f
      // 0x80 (indefinite) is not allowed in EMV; more than 4 length bytes cannot fit any frame.
      if (n === 0 || n > 4) fail('TLV_LENGTH_OVERFLOW', `${path}.${tag}`, base + p, 'unsupported length form')
      if (p + 1 + n > end) fail('TLV_TRUNCATED', `${path}.${tag}`, base + p, 'data ends inside the length')
      len = 0
      for (let i = 1; i <= n; i++) len = len * 256 + buf[p + i]!
      lenBytes = 1 + n
    }
    p += lenBytes
    if (len > end - p) fail('TLV_LENGTH_OVERFLOW', `${path}.${tag}`, base + tagStart, 'length runs past the enclosing data')
    const node: TlvNode = { tag }
    if (lenBytes !== minimalLengthBytes(len)) node.lengthBytes = lenBytes
    const value = Buffer.from(buf.buffer, buf.byteOffset + p, len)
    if (constructed && depth < MAX_DEPTH) {
      try {
        node.children = parse(buf, p, p + len, `${path}.${tag}`, base, depth + 1)
      } catch (e) {
        if (!(e instanceof Iso8583DecodeError)) throw e
        node.value = value
        node.opaque = true
      }
    } else node.value = value
    out.push(node)
    p += len
  }
  return out
}

/**
 * Decode a BER-TLV list. Throws Iso8583DecodeError (TLV_TRUNCATED, TLV_LENGTH_OVERFLOW,
 * TLV_INVALID_TAG) when the top level is malformed; values are views into `data`.
 */
export function decodeTlv(data: Uint8Array, path = '55'): TlvNode[] {
  return parse(data, 0, data.length, path, 0, 0)
}

function encodedSize(nodes: readonly TlvNode[], path: string): number {
  let total = 0
  for (const n of nodes) {
    const len = n.children && !n.opaque ? encodedSize(n.children, `${path}.${n.tag}`) : (n.value?.length ?? 0)
    total += n.tag.length / 2 + (n.lengthBytes ?? minimalLengthBytes(len)) + len
  }
  return total
}

function write(nodes: readonly TlvNode[], out: Buffer, p: number, path: string): number {
  for (const n of nodes) {
    const np = `${path}.${n.tag}`
    if (!/^([0-9A-F]{2}){1,4}$/.test(n.tag)) throw new Iso8583EncodeError('TLV_INVALID_TAG', np, -1, 'tag must be 1-4 bytes of upper-case hex')
    p += out.write(n.tag, p, 'hex')
    const len = n.children && !n.opaque ? encodedSize(n.children, np) : (n.value?.length ?? 0)
    const lb = n.lengthBytes ?? minimalLengthBytes(len)
    if (lb < minimalLengthBytes(len) || lb > 5) throw new Iso8583EncodeError('TLV_LENGTH_OVERFLOW', np, -1, 'length does not fit the length form')
    if (lb === 1) out[p++] = len
    else {
      out[p++] = 0x80 | (lb - 1)
      for (let i = lb - 2; i >= 0; i--) out[p++] = Math.floor(len / 256 ** i) & 0xff
    }
    if (n.children && !n.opaque) p = write(n.children, out, p, np)
    else if (n.value) {
      out.set(n.value, p)
      p += n.value.length
    }
  }
  return p
}

/** Encode a TLV list (the inverse of decodeTlv). */
export function encodeTlv(nodes: readonly TlvNode[], path = '55'): Buffer {
  const out = Buffer.alloc(encodedSize(nodes, path))
  write(nodes, out, 0, path)
  return out
}

/** First element with this tag, searching templates depth-first. */
export function findTlv(nodes: readonly TlvNode[], tag: string): TlvNode | undefined {
  for (const n of nodes) {
    if (n.tag === tag) return n
    if (n.children) {
      const f = findTlv(n.children, tag)
      if (f) return f
    }
  }
  return undefined
}
