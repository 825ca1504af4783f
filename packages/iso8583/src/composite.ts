/**
 * Composite (structured) field bodies: positional subfields, tagged subelements (Mastercard DE 48
 * style) and bitmap-driven subfields (Visa 62, 63, 126). Bytes the spec does not describe are kept
 * under `_rest` so that every decodable field re-encodes to the same bytes.
 */
import { ASCII, charsetByName } from './charsets.js'
import { decodeError, encodeError } from './errors.js'
import type { CompileContext, FieldCodec } from './field.js'
import { parseHex, scratchFor, type Reader, type Writer } from './io.js'
import { TAG_ORDER, type Composite, type FieldValue } from './message-types.js'
import type { CompositeSpec, FieldSpec } from './spec-types.js'

/** A compiled composite body: decodes exactly [start, end) and encodes the subfields. */
export interface CompositeBody {
  readonly children: ReadonlyMap<string, FieldCodec>
  decodeRange(r: Reader, start: number, end: number): Composite
  encodeBody(v: Composite, w: Writer): void
}

type Compile = (def: FieldSpec, path: string, ctx: CompileContext) => FieldCodec

/** Canonical subfield keys, to reject "01" for 1 without allocating. */
const KEYS: readonly string[] = Array.from({ length: 129 }, (_, i) => String(i))

/** Key under which undescribed bytes are kept. */
export const REST = '_rest'

function writeRaw(v: FieldValue, w: Writer, path: string): void {
  let bytes: Uint8Array
  if (typeof v === 'string') {
    const b = parseHex(v)
    if (!b) encodeError('INVALID_HEX', path, 'raw bytes given as invalid hex')
    bytes = b
  } else if (v instanceof Uint8Array) bytes = v
  else encodeError('INVALID_VALUE', path, 'expected bytes or hex')
  w.ensure(bytes.length)
  w.buf.set(bytes, w.pos)
  w.pos += bytes.length
}

function numericKeys(subfields: Record<string, FieldSpec>): string[] {
  return Object.keys(subfields).sort((a, b) => Number(a) - Number(b))
}

export function compileComposite(spec: CompositeSpec, path: string, ctx: CompileContext, compile: Compile): CompositeBody {
  switch (spec.kind) {
    case 'positional':
      return positional(spec.subfields, path, ctx, compile)
    case 'tagged':
      return tagged(spec, path, ctx, compile)
    case 'bitmap':
      return bitmapped(spec.bitmap.bytes, spec.subfields, path, ctx, compile)
  }
}

function positional(subfields: Record<string, FieldSpec>, path: string, ctx: CompileContext, compile: Compile): CompositeBody {
  const keys = numericKeys(subfields)
  const codecs = keys.map((k) => compile(subfields[k]!, `${path}.${k}`, ctx))
  const children = new Map(keys.map((k, i) => [k, codecs[i]!]))
  return {
    children,
    decodeRange(r, start, end) {
      r.pos = start
      const o: Composite = {}
      // Trailing subfields may be absent (e.g. Mastercard DE 61 without postal code).
      for (let i = 0; i < codecs.length && r.pos < end; i++) o[keys[i]!] = codecs[i]!.decode(r, end)
      if (r.pos < end) {
        o[REST] = r.buf.subarray(r.pos, end)
        r.pos = end
      }
      return o
    },
    encodeBody(v, w) {
      let missing = ''
      for (const k of Object.keys(v)) if (k !== REST && !children.has(k)) encodeError('UNDEFINED_FIELD', `${path}.${k}`, 'subfield not defined by the spec')
      for (let i = 0; i < codecs.length; i++) {
        const x = v[keys[i]!]
        if (x === undefined) {
          missing ||= keys[i]!
          continue
        }
        if (missing) encodeError('MISSING_SUBFIELD', `${path}.${missing}`, 'positional subfield missing before a present one')
        codecs[i]!.encode(x, w)
      }
      const rest = v[REST]
      if (rest !== undefined) {
        if (missing) encodeError('MISSING_SUBFIELD', `${path}.${missing}`, 'positional subfield missing before extra data')
        writeRaw(rest, w, `${path}.${REST}`)
      }
    },
  }
}

function tagged(spec: Extract<CompositeSpec, { kind: 'tagged' }>, path: string, ctx: CompileContext, compile: Compile): CompositeBody {
  const leadKeys = Object.keys(spec.leading ?? {})
  const leadCodecs = leadKeys.map((k) => compile(spec.leading![k]!, `${path}.${k}`, ctx))
  const known = new Map<string, FieldCodec>()
  for (const [tag, def] of Object.entries(spec.subfields ?? {})) known.set(tag, compile(def, `${path}.${tag}`, ctx))
  const children = new Map<string, FieldCodec>([...leadKeys.map((k, i) => [k, leadCodecs[i]!] as const), ...known])
  const tagCs = spec.tag.encoding === 'ascii' ? ASCII : charsetByName(ctx.codepage)
  const lenCs = spec.len.encoding === 'ascii' ? ASCII : charsetByName(ctx.codepage)
  const tagLen = spec.tag.length
  const lenDigits = spec.len.digits
  const lenMax = 10 ** lenDigits - 1
  const lead = new Set(leadKeys)

  const text = (buf: Buffer, pos: number, n: number): string => {
    const s = scratchFor(n)
    for (let i = 0; i < n; i++) s[i] = tagCs.toLatin1[buf[pos + i]!]!
    return s.latin1Slice(0, n)
  }
  const writeText = (s: string, w: Writer, p: string): void => {
    w.ensure(s.length)
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      const b = c < 256 ? tagCs.fromLatin1[c]! : -1
      if (b < 0) encodeError('INVALID_CHARACTER', p, 'character not encodable')
      w.buf[w.pos++] = b
    }
  }

  return {
    children,
    decodeRange(r, start, end) {
      const buf = r.buf
      r.pos = start
      const o: Composite = {}
      for (let i = 0; i < leadCodecs.length && r.pos < end; i++) o[leadKeys[i]!] = leadCodecs[i]!.decode(r, end)
      const order: string[] = []
      while (r.pos < end) {
        const p = r.pos
        if (p + tagLen + lenDigits > end) decodeError('TRUNCATED', path, p, 'frame ends inside a subelement header')
        const tag = text(buf, p, tagLen)
        let n = 0
        for (let i = 0; i < lenDigits; i++) {
          const d = buf[p + tagLen + i]! - lenCs.zero
          if (d < 0 || d > 9) decodeError('NON_NUMERIC_LENGTH', `${path}.${tag}`, p + tagLen + i, 'subelement length is not numeric')
          n = n * 10 + d
        }
        const vp = p + tagLen + lenDigits
        if (vp + n > end) decodeError('TRUNCATED', `${path}.${tag}`, vp, 'subelement runs past its field')
        if (Object.prototype.hasOwnProperty.call(o, tag) || tag === REST) decodeError('DUPLICATE_SUBFIELD', `${path}.${tag}`, p, 'tag occurs twice')
        r.pos = vp
        const c = known.get(tag)
        o[tag] = c ? c.decodeSized(r, n) : text(buf, vp, n)
        r.pos = vp + n
        order.push(tag)
      }
      Object.defineProperty(o, TAG_ORDER, { value: order, enumerable: false })
      return o
    },
    encodeBody(v, w) {
      let missing = ''
      for (let i = 0; i < leadCodecs.length; i++) {
        const x = v[leadKeys[i]!]
        if (x === undefined) {
          missing ||= leadKeys[i]!
          continue
        }
        if (missing) encodeError('MISSING_SUBFIELD', `${path}.${missing}`, 'leading subfield missing')
        leadCodecs[i]!.encode(x, w)
      }
      // Wire order of a decoded value first, then any new tags in ascending order.
      const present = Object.keys(v).filter((k) => !lead.has(k) && v[k] !== undefined)
      if (missing && present.length > 0) encodeError('MISSING_SUBFIELD', `${path}.${missing}`, 'leading subfield missing')
      const remembered = v[TAG_ORDER]
      let tags: string[]
      if (remembered) {
        const seen = new Set(remembered)
        tags = remembered.filter((t) => v[t] !== undefined).concat(present.filter((t) => !seen.has(t)).sort())
      } else tags = present.sort()
      for (const tag of tags) {
        const p = `${path}.${tag}`
        if (tag.length !== tagLen) encodeError('INVALID_VALUE', p, 'tag has the wrong length')
        writeText(tag, w, p)
        w.ensure(lenDigits)
        const at = w.pos
        w.pos += lenDigits
        const x = v[tag]!
        const c = known.get(tag)
        if (c) c.encodeSized(x, w)
        else if (typeof x === 'string') writeText(x, w, p)
        else writeRaw(x, w, p)
        let n = w.pos - at - lenDigits
        if (n > lenMax) encodeError('LENGTH_EXCEEDED', p, 'subelement too long for its length digits')
        for (let i = lenDigits - 1; i >= 0; i--) {
          w.buf[at + i] = lenCs.zero + (n % 10)
          n = Math.floor(n / 10)
        }
      }
    },
  }
}

function bitmapped(bytes: number, subfields: Record<string, FieldSpec>, path: string, ctx: CompileContext, compile: Compile): CompositeBody {
  const bits = bytes * 8
  const codecs: (FieldCodec | undefined)[] = new Array<FieldCodec | undefined>(bits + 1).fill(undefined)
  const children = new Map<string, FieldCodec>()
  for (const k of numericKeys(subfields)) {
    const c = compile(subfields[k]!, `${path}.${k}`, ctx)
    codecs[Number(k)] = c
    children.set(k, c)
  }
  return {
    children,
    decodeRange(r, start, end) {
      const buf = r.buf
      if (start + bytes > end) decodeError('TRUNCATED', path, start, 'frame ends inside the subfield bitmap')
      r.pos = start + bytes
      const o: Composite = {}
      for (let i = 0; i < bytes; i++) {
        const byte = buf[start + i]!
        if (byte === 0) continue
        for (let j = 0; j < 8; j++) {
          if (!(byte & (0x80 >> j))) continue
          const bit = i * 8 + j + 1
          const c = codecs[bit]
          if (!c) {
            // Unknown subfield: its length is unknown, so everything from here on is kept as is.
            const unknown: number[] = []
            for (let b = bit; b <= bits; b++) if (buf[start + ((b - 1) >> 3)]! & (0x80 >> ((b - 1) & 7))) unknown.push(b)
            o[REST] = { bits: unknown.join(','), data: buf.subarray(r.pos, end) }
            r.pos = end
            return o
          }
          o[bit] = c.decode(r, end)
        }
      }
      if (r.pos < end) {
        o[REST] = { bits: '', data: buf.subarray(r.pos, end) }
        r.pos = end
      }
      return o
    },
    encodeBody(v, w) {
      w.ensure(bytes)
      const at = w.pos
      for (let i = 0; i < bytes; i++) w.buf[at + i] = 0
      w.pos += bytes
      // Bits are set in place: the bitmap lies before w.pos, so it survives any buffer growth.
      for (const k of Object.keys(v)) {
        if (k === REST) continue
        const x = v[k]
        if (x === undefined) continue
        const n = +k
        const c = n >= 1 && n <= bits && KEYS[n] === k ? codecs[n] : undefined
        if (!c) encodeError('UNDEFINED_FIELD', `${path}.${k}`, 'subfield not defined by the spec')
        w.buf[at + ((n - 1) >> 3)]! |= 0x80 >> ((n - 1) & 7)
        c.encode(x, w)
      }
      const rest = v[REST]
      if (rest !== undefined) {
        if (typeof rest !== 'object' || rest instanceof Uint8Array) encodeError('INVALID_VALUE', `${path}.${REST}`, 'expected { bits, data }')
        const list = typeof rest.bits === 'string' && rest.bits !== '' ? rest.bits.split(',') : []
        for (const b of list) {
          const n = Number(b)
          if (!Number.isInteger(n) || n < 1 || n > bits) encodeError('INVALID_VALUE', `${path}.${REST}`, 'bit number out of range')
          w.buf[at + ((n - 1) >> 3)]! |= 0x80 >> ((n - 1) & 7)
        }
        if (rest.data !== undefined) writeRaw(rest.data, w, `${path}.${REST}`)
      }
    },
  }
}
