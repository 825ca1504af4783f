/**
 * Compiles one field definition (primitive or composite, any depth) into a FieldCodec: a set of
 * closures specialised for that field, so decoding never interprets the spec document.
 */
import { ASCII, charsetByName, type Charset } from './charsets.js'
import { compileComposite } from './composite.js'
import { decodeError, encodeError } from './errors.js'
import type { Reader, Writer } from './io.js'
import type { Composite, FieldValue } from './message-types.js'
import { binaryPrefix, bcdPrefix, textPrefix, type Prefix } from './prefix.js'
import { bcdBody, binaryBody, hexTextBody, signedBody, textBody, type Body } from './primitive.js'
import type { Codepage, FieldSpec } from './spec-types.js'

/** A compiled field. */
export interface FieldCodec {
  /** Field path, e.g. "2", "62.2", "48.42". */
  readonly path: string
  readonly def: FieldSpec
  /** Compiled subfields of a composite, by key. */
  readonly children: ReadonlyMap<string, FieldCodec> | undefined
  /** Decode prefix and content at r.pos, never reading at or past `end`. */
  decode(r: Reader, end: number): FieldValue
  /** Decode content whose byte length is already known (tagged subelements, rest-of-field). */
  decodeSized(r: Reader, nbytes: number): FieldValue
  /** Move r.pos past the field without building its value (partial scan). */
  skip(r: Reader, end: number): void
  /** Encode prefix (if any) and content. */
  encode(v: FieldValue, w: Writer): void
  /** Encode content only, no prefix and no fixed-length padding. */
  encodeSized(v: FieldValue, w: Writer): void
}

/** Settings inherited from the spec document. */
export interface CompileContext {
  codepage: Codepage
}

function truncated(path: string, offset: number): never {
  return decodeError('TRUNCATED', path, offset, 'frame ends inside the field')
}

export function charsetFor(enc: 'ascii' | 'ebcdic', def: { codepage?: Codepage }, ctx: CompileContext): Charset {
  return enc === 'ascii' ? ASCII : charsetByName(def.codepage ?? ctx.codepage)
}

function compilePrefix(def: FieldSpec, ctx: CompileContext): Prefix | undefined {
  const p = def.prefix
  if (!p) return undefined
  switch (p.encoding) {
    case 'ascii':
    case 'ebcdic':
      return textPrefix(charsetFor(p.encoding, def, ctx), p.digits!)
    case 'bcd':
      return bcdPrefix(p.digits!)
    case 'binary':
      return binaryPrefix(p.bytes!)
  }
}

/** Length unit of a field when the spec does not say. */
export function defaultUnit(def: FieldSpec): 'digits' | 'chars' | 'bytes' {
  if (def.unit) return def.unit
  if (def.composite || def.type === 'b') return 'bytes'
  if (def.encoding === 'bcd') return 'digits'
  return def.type === 'x+n' ? 'digits' : 'chars'
}

function compileBody(def: FieldSpec, ctx: CompileContext): Body {
  const unit = defaultUnit(def)
  const bcdOpts = {
    leftJustify: def.bcd?.justify === 'left',
    pad: parseInt(def.bcd?.pad ?? '0', 16),
    hexNibbles: def.type === 'z',
    digitUnits: unit !== 'bytes',
  }
  if (def.type === 'x+n') {
    const signEnc = def.encoding === 'bcd' ? (def.signEncoding ?? 'ascii') : (def.encoding as 'ascii' | 'ebcdic')
    const digits = def.encoding === 'bcd' ? bcdBody(bcdOpts) : textBody(charsetFor(def.encoding as 'ascii' | 'ebcdic', def, ctx), true)
    return signedBody(charsetFor(signEnc, def, ctx), digits)
  }
  switch (def.encoding) {
    case 'ascii':
    case 'ebcdic':
      return textBody(charsetFor(def.encoding, def, ctx), def.type === 'n')
    case 'bcd':
      return bcdBody(bcdOpts)
    case 'binary':
      return binaryBody()
    case 'hex-ascii':
      return hexTextBody(ASCII, unit === 'chars')
    case 'hex-ebcdic':
      return hexTextBody(charsetByName(def.codepage ?? ctx.codepage), unit === 'chars')
  }
}

function padder(def: FieldSpec): ((s: string, len: number) => string) | undefined {
  const pad = def.pad ?? (def.type === 'n' ? { char: '0', side: 'left' } : def.type === 'b' || def.type === 'z' || def.type === 'x+n' ? undefined : { char: ' ', side: 'right' })
  if (!pad) return undefined
  const ch = pad.char
  return pad.side === 'left' ? (s, len) => ch.repeat(len - s.length) + s : (s, len) => s + ch.repeat(len - s.length)
}

/** Compile a field or subfield definition. */
export function compileField(def: FieldSpec, path: string, ctx: CompileContext): FieldCodec {
  return def.composite ? compileCompositeField(def, path, ctx) : compilePrimitiveField(def, path, ctx)
}

function compilePrimitiveField(def: FieldSpec, path: string, ctx: CompileContext): FieldCodec {
  const body = compileBody(def, ctx)
  const prefix = compilePrefix(def, ctx)
  const max = def.length
  const pad = padder(def)

  const decodeSized = (r: Reader, n: number): FieldValue => {
    const u = body.unitsFromBytes(n)
    if (u < 0) decodeError('INVALID_LENGTH', path, r.pos, 'byte length does not fit the field encoding')
    if (u > max) decodeError('LENGTH_EXCEEDED', path, r.pos, 'length over the spec maximum')
    const v = body.read(r.buf, r.pos, u, path)
    r.pos += n
    return v
  }
  const encodeSized = (v: FieldValue, w: Writer): void => {
    const u = body.units(v, path)
    if (u > max) encodeError('LENGTH_EXCEEDED', path, 'length over the spec maximum')
    body.write(v, u, w, path)
  }

  if (def.rest) {
    return {
      path,
      def,
      children: undefined,
      decode: (r, end) => decodeSized(r, end - r.pos),
      decodeSized,
      skip: (r, end) => void (r.pos = end),
      encode: encodeSized,
      encodeSized,
    }
  }

  if (!prefix) {
    const nb = body.bytes(max)
    const fast = def.type === 'n' && def.encoding === 'bcd' && defaultUnit(def) === 'digits' && def.bcd?.justify !== 'left' ? fixedBcd(def, path, max, pad) : undefined
    return {
      path,
      def,
      children: undefined,
      decode:
        ((r, end) => {
          const p = r.pos
          if (p + nb > end) truncated(path, p)
          const v = body.read(r.buf, p, max, path)
          r.pos = p + nb
          return v
        }),
      decodeSized,
      skip(r, end) {
        if (r.pos + nb > end) truncated(path, r.pos)
        r.pos += nb
      },
      encode:
        fast?.encode ??
        ((v, w) => {
          const u = body.units(v, path)
          if (u !== max) {
            if (u > max) encodeError('LENGTH_EXCEEDED', path, 'value longer than the fixed length')
            if (!pad) encodeError('INVALID_LENGTH', path, 'value shorter than the fixed length')
            v = pad(v as string, max)
          }
          body.write(v, max, w, path)
        }),
      encodeSized,
    }
  }

  const pw = prefix.width
  const readLength = (r: Reader, end: number): number => {
    const p = r.pos
    if (p + pw > end) truncated(path, p)
    const u = prefix.read(r.buf, p, path)
    if (u > max) decodeError('LENGTH_EXCEEDED', path, p, 'length over the spec maximum')
    const nb = body.bytes(u)
    if (p + pw + nb > end) truncated(path, p + pw)
    r.pos = p + pw
    return u
  }
  return {
    path,
    def,
    children: undefined,
    decode(r, end) {
      const p0 = r.pos
      if (p0 + pw > end) truncated(path, p0)
      const u = prefix.read(r.buf, p0, path)
      if (u > max) decodeError('LENGTH_EXCEEDED', path, p0, 'length over the spec maximum')
      const p = p0 + pw
      const nb = body.bytes(u)
      if (p + nb > end) truncated(path, p)
      r.pos = p + nb
      return body.read(r.buf, p, u, path)
    },
    decodeSized,
    skip(r, end) {
      const u = readLength(r, end)
      r.pos += body.bytes(u)
    },
    encode(v, w) {
      const u = body.units(v, path)
      if (u > max) encodeError('LENGTH_EXCEEDED', path, 'length over the spec maximum')
      w.ensure(pw)
      prefix.writeAt(w.buf, w.pos, u, path)
      w.pos += pw
      body.write(v, u, w, path)
    },
    encodeSized,
  }
}

/**
 * Fixed-length, right-justified BCD numerics are most of a Visa message; their encoder is a single
 * closure (same behaviour as bcdBody, without the body indirection). Decoding keeps the shared
 * path: one more closure shape at the message-level call site measured slower, not faster.
 */
function fixedBcd(def: FieldSpec, path: string, max: number, pad: ((s: string, len: number) => string) | undefined): Pick<FieldCodec, 'encode'> {
  const padNibble = parseInt(def.bcd?.pad ?? '0', 16)
  const odd = max & 1
  const nb = (max + 1) >> 1
  return {
    encode(v, w) {
      if (typeof v !== 'string') return encodeError('INVALID_VALUE', path, 'expected a string')
      let s = v
      if (s.length !== max) {
        if (s.length > max) encodeError('LENGTH_EXCEEDED', path, 'value longer than the fixed length')
        if (!pad) encodeError('INVALID_LENGTH', path, 'value shorter than the fixed length')
        s = pad(s, max)
      }
      if (w.pos + nb > w.buf.length) w.ensure(nb)
      const out = w.buf
      let p = w.pos
      let i = 0
      if (odd) {
        const d = s.charCodeAt(0) - 0x30
        if (d < 0 || d > 9) encodeError('INVALID_CHARACTER', path, 'non-digit in numeric field')
        out[p++] = (padNibble << 4) | d
        i = 1
      }
      for (; i < max; i += 2) {
        const hi = s.charCodeAt(i) - 0x30
        const lo = s.charCodeAt(i + 1) - 0x30
        if (hi < 0 || hi > 9 || lo < 0 || lo > 9) encodeError('INVALID_CHARACTER', path, 'non-digit in numeric field')
        out[p++] = (hi << 4) | lo
      }
      w.pos = p
    },
  }
}

function expectComposite(v: FieldValue, path: string): Composite {
  if (typeof v !== 'object' || v instanceof Uint8Array || v === null) encodeError('INVALID_VALUE', path, 'expected an object of subfields')
  return v
}

function compileCompositeField(def: FieldSpec, path: string, ctx: CompileContext): FieldCodec {
  // A composite's code page applies to its tags, lengths and subfields unless they name their own.
  const inner = def.codepage ? { ...ctx, codepage: def.codepage } : ctx
  const cbody = compileComposite(def.composite!, path, inner, compileField)
  const prefix = compilePrefix(def, ctx)
  const max = def.length

  const decodeSized = (r: Reader, n: number): FieldValue => {
    if (n > max) decodeError('LENGTH_EXCEEDED', path, r.pos, 'length over the spec maximum')
    const start = r.pos
    const v = cbody.decodeRange(r, start, start + n)
    r.pos = start + n
    return v
  }
  const encodeSized = (v: FieldValue, w: Writer): void => {
    const start = w.pos
    cbody.encodeBody(expectComposite(v, path), w)
    if (w.pos - start > max) encodeError('LENGTH_EXCEEDED', path, 'length over the spec maximum')
  }
  const base = { path, def, children: cbody.children, decodeSized, encodeSized }

  if (def.rest) {
    return { ...base, decode: (r, end) => decodeSized(r, end - r.pos), skip: (r, end) => void (r.pos = end), encode: encodeSized }
  }
  if (!prefix) {
    return {
      ...base,
      decode(r, end) {
        if (r.pos + max > end) truncated(path, r.pos)
        return decodeSized(r, max)
      },
      skip(r, end) {
        if (r.pos + max > end) truncated(path, r.pos)
        r.pos += max
      },
      encode(v, w) {
        const start = w.pos
        cbody.encodeBody(expectComposite(v, path), w)
        if (w.pos - start !== max) encodeError('INVALID_LENGTH', path, 'composite does not fill the fixed length')
      },
    }
  }
  const pw = prefix.width
  const readLength = (r: Reader, end: number): number => {
    const p = r.pos
    if (p + pw > end) truncated(path, p)
    const n = prefix.read(r.buf, p, path)
    if (n > max) decodeError('LENGTH_EXCEEDED', path, p, 'length over the spec maximum')
    if (p + pw + n > end) truncated(path, p + pw)
    r.pos = p + pw
    return n
  }
  return {
    ...base,
    decode(r, end) {
      const n = readLength(r, end)
      const start = r.pos
      const v = cbody.decodeRange(r, start, start + n)
      r.pos = start + n
      return v
    },
    skip(r, end) {
      r.pos += readLength(r, end)
    },
    encode(v, w) {
      const obj = expectComposite(v, path)
      w.ensure(pw)
      const at = w.pos
      w.pos += pw
      cbody.encodeBody(obj, w)
      const n = w.pos - at - pw
      if (n > max) encodeError('LENGTH_EXCEEDED', path, 'length over the spec maximum')
      prefix.writeAt(w.buf, at, n, path)
    },
  }
}
