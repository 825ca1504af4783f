/**
 * Code generation: each compiled spec also gets one specialised decode function and one encode
 * function for the message body (the fields after the MTI and bitmap), built with `new Function`.
 *
 * Safety of the generated code: the source text is assembled only from fixed templates and from
 * integers taken from the validated spec (field numbers, lengths, prefix widths, pad nibbles, masks),
 * each checked with `Number.isSafeInteger` before it is written. No string of the spec document
 * (names, paths, code pages) and nothing from a message ever becomes source text: tables, paths and
 * the closure codecs are passed in as function parameters.
 *
 * Semantics: the generated functions are fast paths for the common field kinds (BCD, ASCII/EBCDIC
 * text, binary, bitmap composites; fixed or with binary/BCD/text length prefixes). They never throw
 * on bad input of their own: whenever something is not plainly valid (a bad nibble, a truncated
 * field, an undefined bit, a value that needs padding, a hex string for a binary field, a key
 * the spec does not define …) they return null/-1 and the message is decoded/encoded again by the
 * closure codecs (field.ts, composite.ts), which produce exactly the documented typed errors. Field
 * kinds without a fast path (tagged and positional composites, hex text, x+n) call their closure
 * codec in place; should one throw, Iso8583Spec also falls back to the closure path, so the error
 * reported is always the one the closure path reports.
 */
import type { Charset } from './charsets.js'
import { defaultUnit, type FieldCodec } from './field.js'
import { view, type Reader, type Writer } from './io.js'
import type { FieldValue } from './message-types.js'
import type { CompositeSpec, FieldSpec, PrefixSpec } from './spec-types.js'

/** Generated body decoder: fields from r.pos to end, or null when the closure path must decide. */
export type BodyDecoder = (buf: Buffer, end: number, bm: Uint8Array, nBytes: number, top: number, r: Reader) => Record<string, FieldValue> | null
/**
 * Generated body encoder: writes the fields at w.pos in number order and stores their bitmap in
 * bm (all 16 or 24 bytes; bits 1 and 65 are left to the caller); returns the highest field
 * written, or -1 when the closure path must decide (bm is then undefined).
 */
export type BodyEncoder = (fields: Record<string, FieldValue>, w: Writer, bm: Uint8Array) => number

/** Longest constant-length string built with one String.fromCharCode call (measured faster than a native slice up to about this size). */
const MAX_FCC = 40

/** Upper-case hex digit char codes by nibble. */
const H = Uint8Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0))
/** 1 where either nibble of the byte is above 9. */
const BADN = Uint8Array.from({ length: 256 }, (_, b) => (b >> 4 > 9 || (b & 15) > 9 ? 1 : 0))
/** Packed BCD byte → 0..99, -1 when a nibble is above 9. */
const DEC = Int16Array.from({ length: 256 }, (_, b) => (b >> 4 > 9 || (b & 15) > 9 ? -1 : (b >> 4) * 10 + (b & 15)))
/** 0..99 → packed BCD byte. */
const BCD = Uint8Array.from({ length: 100 }, (_, n) => (Math.floor(n / 10) << 4) | n % 10)
/** Nibble value of a type-z character: digits, A–F, '=' as D; -1 otherwise (upper case only). */
const NIBZ = (() => {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) t[48 + i] = i
  for (let i = 0; i < 6; i++) t[65 + i] = 10 + i
  t[0x3d] = 0xd
  return t
})()

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string }
const scratch = Buffer.allocUnsafeSlow(4096) as Latin1Buffer

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError('code generation: not an integer')
  return String(n)
}

/**
 * Builders of short strings with one String.fromCharCode call per length (1..MAX_FCC), selected by
 * a switch; longer strings go through a scratch buffer and one native latin1 slice.
 */
function buildHelpers(): {
  nib0: (buf: Buffer, p: number, count: number) => string
  nib1: (buf: Buffer, p: number, count: number) => string
  text: (buf: Buffer, p: number, n: number, t: Uint8Array) => string
  ascii: (buf: Buffer, p: number, n: number) => string
} {
  const nibbleExpr = (k: number, skip: number): string => {
    const s = k + skip
    return s & 1 ? `H[buf[p + ${int(s >> 1)}] & 15]` : `H[buf[p + ${int(s >> 1)}] >> 4]`
  }
  const nib = (skip: number): string => {
    let cases = ''
    for (let n = 1; n <= MAX_FCC; n++) {
      const args = Array.from({ length: n }, (_, k) => nibbleExpr(k, skip)).join(', ')
      cases += `case ${int(n)}: return String.fromCharCode(${args})\n`
    }
    return `function (buf, p, count) {
      switch (count) {
        case 0: return ''
        ${cases}
      }
      let q = 0
      for (let k = ${int(skip)}; k < count + ${int(skip)}; k++) { const b = buf[p + (k >> 1)]; scratch[q++] = H[k & 1 ? b & 15 : b >> 4] }
      return scratch.latin1Slice(0, q)
    }`
  }
  let textCases = ''
  let asciiCases = ''
  for (let n = 1; n <= MAX_FCC; n++) {
    textCases += `case ${int(n)}: return String.fromCharCode(${Array.from({ length: n }, (_, k) => `t[buf[p + ${int(k)}]]`).join(', ')})\n`
    if (n <= 16) asciiCases += `case ${int(n)}: return String.fromCharCode(${Array.from({ length: n }, (_, k) => `buf[p + ${int(k)}]`).join(', ')})\n`
  }
  const src = `return {
    nib0: ${nib(0)},
    nib1: ${nib(1)},
    text: function (buf, p, n, t) {
      switch (n) { case 0: return ''
        ${textCases} }
      for (let i = 0; i < n; i++) scratch[i] = t[buf[p + i]]
      return scratch.latin1Slice(0, n)
    },
    ascii: function (buf, p, n) {
      switch (n) { case 0: return ''
        ${asciiCases} }
      return buf.latin1Slice(p, p + n)
    },
  }`
  // The scratch buffer is 4096 bytes: longer strings would overflow it, so the callers only use
  // these helpers for lengths the spec bounds; anything longer goes through the closure codecs.
  return new Function('H', 'scratch', src)(H, scratch) as ReturnType<typeof buildHelpers>
}

const helpers = buildHelpers()
/** Longest variable-length value the helpers build (bounded by the scratch buffer). */
const MAX_HELPER = 4096

/** Runtime values the generated code refers to by parameter name. */
class Emitter {
  private readonly names: string[] = []
  private readonly values: unknown[] = []
  private readonly byValue = new Map<unknown, string>()
  private n = 0

  constructor() {
    for (const [name, value] of Object.entries({ view, H, BADN, DEC, BCD, NIBZ, nib0: helpers.nib0, nib1: helpers.nib1, text: helpers.text, ascii: helpers.ascii })) {
      this.names.push(name)
      this.values.push(value)
      this.byValue.set(value, name)
    }
  }

  /** Parameter name under which `value` is visible to the generated code. */
  ref(value: unknown): string {
    let name = this.byValue.get(value)
    if (name === undefined) {
      name = `k${this.n++}`
      this.names.push(name)
      this.values.push(value)
      this.byValue.set(value, name)
    }
    return name
  }

  /** A fresh local variable name. */
  tmp(hint: string): string {
    return `${hint}${this.n++}`
  }

  build<T>(body: string): T {
    return new Function(...this.names, body)(...this.values) as T
  }
}

interface Ctx {
  codepage: 'cp037' | 'cp1047'
  charset: (enc: 'ascii' | 'ebcdic', def: { codepage?: 'cp037' | 'cp1047' }, codepage: 'cp037' | 'cp1047') => Charset
}

type PrimitiveKind = 'bcd' | 'text' | 'binary' | undefined

function primitiveKind(def: FieldSpec): PrimitiveKind {
  if (def.rest || def.type === 'x+n') return undefined
  if (def.encoding === 'bcd') return def.type === 'n' || def.type === 'z' ? 'bcd' : undefined
  if (def.encoding === 'ascii' || def.encoding === 'ebcdic') return 'text'
  if (def.encoding === 'binary') return 'binary'
  return undefined
}

function bitmapComposite(def: FieldSpec): Extract<CompositeSpec, { kind: 'bitmap' }> | undefined {
  return !def.rest && def.composite?.kind === 'bitmap' ? def.composite : undefined
}

function prefixWidth(p: PrefixSpec): number {
  return p.encoding === 'binary' ? p.bytes! : p.encoding === 'bcd' ? (p.digits! + 1) >> 1 : p.digits!
}

/** Largest length a field may carry: its maximum, and never more than the prefix can express. */
function maxLength(def: FieldSpec): number {
  const p = def.prefix
  if (!p) return def.length
  const cap = p.encoding === 'binary' ? 2 ** (8 * p.bytes!) - 1 : 10 ** p.digits! - 1
  return Math.min(def.length, cap)
}

/** Characters of the longest string value of a BCD or text field. */
function maxChars(def: FieldSpec): number {
  return def.encoding === 'bcd' && defaultUnit(def) === 'bytes' ? def.length * 2 : def.length
}

// ---------------------------------------------------------------------------------------------
// decode

/**
 * Code reading a length prefix at p into `u` (declared by the caller), checking it against `max`
 * and advancing p past the prefix. Returns null from the generated function on anything invalid.
 */
function genReadPrefix(e: Emitter, pre: PrefixSpec, def: FieldSpec, ctx: Ctx, u: string, end: string, max: number): string {
  const w = prefixWidth(pre)
  let s = `if (p + ${int(w)} > ${end}) return -1\n`
  if (pre.encoding === 'binary') {
    const parts = Array.from({ length: w }, (_, i) => `buf[p + ${int(i)}] * ${int(2 ** (8 * (w - 1 - i)))}`)
    s += `${u} = ${parts.join(' + ')}\n`
  } else if (pre.encoding === 'bcd') {
    s += `${u} = 0\n`
    for (let i = 0; i < w; i++) {
      const t = e.tmp('t')
      s += `{ const ${t} = DEC[buf[p + ${int(i)}]]; if (${t} < 0) return -1; ${u} = ${u} * 100 + ${t} }\n`
    }
  } else {
    const zero = ctx.charset(pre.encoding, def, ctx.codepage).zero
    s += `${u} = 0\n`
    for (let i = 0; i < w; i++) {
      const t = e.tmp('t')
      s += `{ const ${t} = buf[p + ${int(i)}] - ${int(zero)}; if (${t} < 0 || ${t} > 9) return -1; ${u} = ${u} * 10 + ${t} }\n`
    }
  }
  s += `if (${u} > ${int(max)}) return -1\np += ${int(w)}\n`
  return s
}

/** Code decoding one field at p (bounded by `end`) into `target`, advancing p. */
function genDecodeField(e: Emitter, def: FieldSpec, codec: FieldCodec, ctx: Ctx, target: string, end: string): string {
  const composite = bitmapComposite(def)
  if (composite) return genDecodeBitmapComposite(e, def, composite, codec, ctx, target, end)
  const kind = def.composite ? undefined : primitiveKind(def)
  const max = def.length
  if (kind === undefined || (kind !== 'binary' && maxChars(def) > MAX_HELPER)) {
    // No fast path: the closure codec, exactly as the closure-based message loop calls it.
    return `r.pos = p; ${target} = ${e.ref(codec)}.decode(r, ${end}); p = r.pos\n`
  }
  const inner = def.codepage ? def.codepage : ctx.codepage
  if (!def.prefix) {
    if (kind === 'bcd') {
      const digits = defaultUnit(def) === 'bytes' ? max * 2 : max
      if (digits > MAX_FCC) return `r.pos = p; ${target} = ${e.ref(codec)}.decode(r, ${end}); p = r.pos\n`
      return genFixedBcd(e, def, digits, target, end)
    }
    let s = `if (p + ${int(max)} > ${end}) return -1\n`
    if (kind === 'binary') return s + `${target} = view(buf, p, p + ${int(max)}); p += ${int(max)}\n`
    const cs = ctx.charset(def.encoding as 'ascii' | 'ebcdic', def, inner)
    const ascii = cs.name === 'ascii'
    if (def.type === 'n') s += genDigitCheck(e, cs, 'p', int(max))
    if (max <= MAX_FCC) {
      const t = ascii ? '' : e.ref(cs.toLatin1)
      const args = Array.from({ length: max }, (_, k) => (ascii ? `buf[p + ${int(k)}]` : `${t}[buf[p + ${int(k)}]]`))
      s += max === 0 ? `${target} = ''\n` : `${target} = String.fromCharCode(${args.join(', ')})\n`
    } else s += ascii ? `${target} = ascii(buf, p, ${int(max)})\n` : `${target} = text(buf, p, ${int(max)}, ${e.ref(cs.toLatin1)})\n`
    return s + `p += ${int(max)}\n`
  }
  const u = e.tmp('u')
  let s = `{ let ${u} = 0\n` + genReadPrefix(e, def.prefix, def, ctx, u, end, max)
  if (kind === 'binary') return s + `if (p + ${u} > ${end}) return -1\n${target} = view(buf, p, p + ${u}); p += ${u} }\n`
  if (kind === 'text') {
    const cs = ctx.charset(def.encoding as 'ascii' | 'ebcdic', def, inner)
    s += `if (p + ${u} > ${end}) return -1\n`
    if (def.type === 'n') s += genDigitCheck(e, cs, 'p', u)
    s += cs.name === 'ascii' ? `${target} = ascii(buf, p, ${u})\n` : `${target} = text(buf, p, ${u}, ${e.ref(cs.toLatin1)})\n`
    return s + `p += ${u} }\n`
  }
  // BCD with a length prefix.
  const digitUnits = defaultUnit(def) !== 'bytes'
  const left = def.bcd?.justify === 'left'
  const pad = parseInt(def.bcd?.pad ?? '0', 16)
  const hex = def.type === 'z'
  const nb = e.tmp('nb')
  const i = e.tmp('i')
  s += digitUnits ? `const ${nb} = (${u} + 1) >> 1\n` : `const ${nb} = ${u}\n`
  s += `if (p + ${nb} > ${end}) return -1\n`
  if (digitUnits) {
    // Odd digit counts carry one pad nibble: first (right-justified) or last (left-justified).
    const b = e.tmp('b')
    if (left) {
      s += `if (${u} & 1) { const ${b} = buf[p + ${nb} - 1]; if ((${b} & 15) !== ${int(pad)}${hex ? '' : ` || (${b} >> 4) > 9`}) return -1 }\n`
      if (!hex) s += `for (let ${i} = p, e = p + (${u} >> 1); ${i} < e; ${i}++) if (BADN[buf[${i}]] !== 0) return -1\n`
      s += `${target} = nib0(buf, p, ${u})\n`
    } else {
      s += `if (${u} & 1) { const ${b} = buf[p]; if ((${b} >> 4) !== ${int(pad)}${hex ? '' : ` || (${b} & 15) > 9`}) return -1 }\n`
      if (!hex) s += `for (let ${i} = p + (${u} & 1), e = p + ${nb}; ${i} < e; ${i}++) if (BADN[buf[${i}]] !== 0) return -1\n`
      s += `${target} = (${u} & 1) ? nib1(buf, p, ${u}) : nib0(buf, p, ${u})\n`
    }
  } else {
    if (!hex) s += `for (let ${i} = p, e = p + ${nb}; ${i} < e; ${i}++) if (BADN[buf[${i}]] !== 0) return -1\n`
    s += `${target} = nib0(buf, p, ${u} * 2)\n`
  }
  return s + `p += ${nb} }\n`
}

/** Digit check of a numeric text field of n bytes at `at` (wire digits are contiguous from `zero`). */
function genDigitCheck(e: Emitter, cs: Charset, at: string, n: string): string {
  const i = e.tmp('i')
  const d = e.tmp('d')
  return `for (let ${i} = 0; ${i} < ${n}; ${i}++) { const ${d} = buf[${at} + ${i}] - ${int(cs.zero)}; if (${d} < 0 || ${d} > 9) return -1 }\n`
}

/** Fixed-length packed BCD: every byte in a local, validated at once, one String.fromCharCode. */
function genFixedBcd(e: Emitter, def: FieldSpec, digits: number, target: string, end: string): string {
  const nb = (digits + 1) >> 1
  const left = def.bcd?.justify === 'left'
  const pad = parseInt(def.bcd?.pad ?? '0', 16)
  const hex = def.type === 'z'
  const b = Array.from({ length: nb }, () => e.tmp('b'))
  let s = `if (p + ${int(nb)} > ${end}) return -1\n{ `
  s += b.map((v, i) => `const ${v} = buf[p + ${int(i)}]`).join('; ') + '\n'
  const odd = digits & 1
  const checks: string[] = []
  const chars: string[] = []
  for (let i = 0; i < nb; i++) {
    const v = b[i]!
    if (odd && !left && i === 0) {
      checks.push(`(${v} >> 4) !== ${int(pad)}`)
      if (!hex) checks.push(`(${v} & 15) > 9`)
      chars.push(`H[${v} & 15]`)
    } else if (odd && left && i === nb - 1) {
      checks.push(`(${v} & 15) !== ${int(pad)}`)
      if (!hex) checks.push(`(${v} >> 4) > 9`)
      chars.push(`H[${v} >> 4]`)
    } else {
      if (!hex) checks.push(`BADN[${v}] !== 0`)
      chars.push(`H[${v} >> 4]`, `H[${v} & 15]`)
    }
  }
  if (checks.length > 0) s += `if (${checks.join(' || ')}) return -1\n`
  s += digits === 0 ? `${target} = ''\n` : `${target} = String.fromCharCode(${chars.join(', ')})\n`
  return s + `p += ${int(nb)} }\n`
}

function subfieldEntries(subfields: Record<string, FieldSpec>): [number, FieldSpec][] {
  return Object.keys(subfields)
    .map((k) => [Number(k), subfields[k]!] as [number, FieldSpec])
    .sort((a, b) => a[0] - b[0])
}

function genDecodeBitmapComposite(e: Emitter, def: FieldSpec, c: Extract<CompositeSpec, { kind: 'bitmap' }>, codec: FieldCodec, ctx: Ctx, target: string, end: string): string {
  const max = def.length
  const bytes = c.bitmap.bytes
  const inner: Ctx = def.codepage ? { ...ctx, codepage: def.codepage } : ctx
  const u = e.tmp('u')
  const ce = e.tmp('ce')
  const o = e.tmp('o')
  let s = `{ let ${u} = 0\n`
  if (def.prefix) s += genReadPrefix(e, def.prefix, def, ctx, u, end, max)
  else s += `${u} = ${int(max)}\n`
  s += `if (p + ${u} > ${end}) return -1\nconst ${ce} = p + ${u}\nif (p + ${int(bytes)} > ${ce}) return -1\n`
  const m = Array.from({ length: bytes }, () => e.tmp('m'))
  s += m.map((v, i) => `const ${v} = buf[p + ${int(i)}]`).join('; ') + '\n'
  const entries = subfieldEntries(c.subfields)
  const defined = new Set(entries.map(([n]) => n))
  const undef: string[] = []
  for (let i = 0; i < bytes; i++) {
    let mask = 0
    for (let j = 0; j < 8; j++) if (!defined.has(i * 8 + j + 1)) mask |= 0x80 >> j
    if (mask !== 0) undef.push(`(${m[i]} & ${int(mask)})`)
  }
  // A set bit without a definition: the closure path keeps the rest as `_rest` (bits + data).
  if (undef.length > 0) s += `if ((${undef.join(' | ')}) !== 0) return -1\n`
  s += `p += ${int(bytes)}\n`
  // Subfields are decoded into locals first; the object is then created by a literal holding its
  // highest key (see objectFor), and the other values are stored into the pre-sized element store.
  const locals = new Map<number, string>()
  for (const [n] of entries) locals.set(n, e.tmp('s'))
  s += `let ${[...locals.values()].join(', ')}\n`
  for (const [n, sub] of entries) {
    const child = codec.children?.get(String(n))
    if (!child) throw new Error('code generation: compiled subfield missing')
    const i = (n - 1) >> 3
    s += `if ((${m[i]} & ${int(0x80 >> ((n - 1) & 7))}) !== 0) {\n${genDecodeField(e, sub, child, inner, locals.get(n)!, ce)}}\n`
  }
  const hi = e.tmp('hi')
  s += `let ${hi} = 0\n`
  for (let i = bytes - 1; i >= 0; i--) s += `${i < bytes - 1 ? 'else ' : ''}if (${m[i]} !== 0) ${hi} = ${int(i * 8 + 8)} - (31 - Math.clz32(${m[i]} & -${m[i]}))\n`
  s += `let ${o}\nswitch (${hi}) {\ncase 0: ${o} = {}; break\n`
  for (const [n] of entries) if (n <= LITERAL_MAX_KEY) s += `case ${int(n)}: ${o} = { ${int(n)}: ${locals.get(n)} }; break\n`
  s += `default: ${o} = {}; ${o}[${hi}] = ''\n}\n`
  for (const [n] of entries) {
    const i = (n - 1) >> 3
    s += `if ((${m[i]} & ${int(0x80 >> ((n - 1) & 7))}) !== 0) ${o}[${int(n)}] = ${locals.get(n)}\n`
  }
  s += `if (p < ${ce}) ${o}._rest = { bits: '', data: view(buf, p, ${ce}) }\np = ${ce}\n${target} = ${o} }\n`
  return s
}

/**
 * Objects keyed by field or subfield number keep their values in an element store. Growing that
 * store for a plain object (the first store into `{}`, or a store past its capacity) is a runtime
 * call costing about as much as decoding a few fields, while an object literal with one integer key
 * up to 32 is cloned from a boilerplate with room for indices up to about 1.5 × key + 16
 * (V8's growth rule). So objects are started from a literal holding a key known to be present.
 */
const LITERAL_MAX_KEY = 32
/** Highest index a literal `{ k: v }` leaves room for, conservatively (V8: k + 1 + (k + 1) / 2 + 16 slots). */
function literalRoom(k: number): number {
  return k + ((k + 1) >> 1) + 16
}

/** Generate the body decoder of a spec. `codecs[n]` is the compiled field n. */
export function generateBodyDecoder(fields: Record<string, FieldSpec>, codecs: readonly (FieldCodec | undefined)[], tertiary: boolean, ctx: Ctx): BodyDecoder {
  const e = new Emitter()
  const maxField = tertiary ? 192 : 128
  // One function per field (V8 does not optimise functions above ~60 KB of bytecode, and small
  // ones get inlined into the driver); each returns the new position, or -1.
  let fns = ''
  let s = `return function decodeBody(buf, end, bm, nBytes, top, r) {\nlet p = r.pos\nlet x = 0\n`
  // The fields object starts from a literal holding the highest present field up to 32 when that
  // leaves room for the top field (placeholder overwritten when the field is decoded); otherwise
  // its element store is sized once by storing a placeholder at the top field.
  s += `let f\nconst lo = ((bm[0] & 127) << 24) | (bm[1] << 16) | (bm[2] << 8) | bm[3]\nconst lit = lo === 0 ? 0 : 32 - (31 - Math.clz32(lo & -lo))\nswitch (lit) {\n`
  for (let n = 2; n <= LITERAL_MAX_KEY; n++) if (codecs[n] !== undefined) s += `case ${int(n)}: if (top <= ${int(literalRoom(n))}) f = { ${int(n)}: '' }; break\n`
  s += `}\nif (f === undefined) { f = {}; if (top > 1) f[top] = '' }\n`
  for (let i = 0; i < maxField / 8; i++) {
    let undef = 0
    let body = ''
    for (let j = 0; j < 8; j++) {
      const n = i * 8 + j + 1
      if (n === 1 || (n === 65 && tertiary)) continue
      const c = codecs[n]
      if (c === undefined) {
        undef |= 0x80 >> j
        continue
      }
      fns += `function d${int(n)}(buf, p, end, r, f) {\n${genDecodeField(e, fields[String(n)]!, c, ctx, `f[${int(n)}]`, 'end')}return p\n}\n`
      body += `if ((x & ${int(0x80 >> j)}) !== 0) { p = d${int(n)}(buf, p, end, r, f); if (p < 0) return null }\n`
    }
    const guard = i % 8 === 0 && i > 0 ? `if (nBytes > ${int(i)}) ` : ''
    if (i % 8 === 0) s += `${guard}{\n`
    s += `x = bm[${int(i)}]\nif (x !== 0) {\n`
    if (undef !== 0) s += `if ((x & ${int(undef)}) !== 0) return null\n`
    s += body + '}\n'
    if (i % 8 === 7) s += '}\n'
  }
  s += `if (p !== end) return null\nr.pos = p\nreturn f\n}`
  return e.build<BodyDecoder>(fns + s)
}

// ---------------------------------------------------------------------------------------------
// encode

/** Code making room for n more bytes at p (o and p are the generated function's buffer and position). */
function ensure(n: string): string {
  // p beyond the buffer would mean bytes were dropped (typed array stores out of bounds are
  // ignored): the room reservations below make that impossible; should one ever be wrong, the
  // closure path encodes the message instead.
  return `if (p + ${n} > o.length) { if (p > o.length) return -1; w.pos = p; w.ensure(${n}); o = w.buf }\n`
}

/**
 * Most bytes the generated code for field `def` writes, prefix included, or undefined when it may
 * call a closure codec (which makes room for itself) or could write more than RUN_MAX. Fields
 * with a bound are written without room checks of their own: the encoder reserves room for a run
 * of them at once (see generateBodyEncoder).
 */
function maxEncoded(def: FieldSpec): number | undefined {
  const pw = def.prefix ? prefixWidth(def.prefix) : 0
  const composite = bitmapComposite(def)
  let n: number | undefined
  if (composite) {
    n = pw + composite.bitmap.bytes
    for (const [, sub] of subfieldEntries(composite.subfields)) {
      const m = maxEncoded(sub)
      if (m === undefined) return undefined
      n += m
    }
  } else {
    const kind = def.composite ? undefined : primitiveKind(def)
    if (kind === undefined) return undefined
    const max = maxLength(def)
    n = pw + (kind === 'bcd' ? (defaultUnit(def) === 'bytes' ? max : (max + 1) >> 1) : max)
  }
  return n <= RUN_MAX ? n : undefined
}

/** Most bytes reserved at once for a run of fields written without room checks. */
const RUN_MAX = 1024

/** Code writing length u as a prefix at `at` (room reserved). */
function genWritePrefix(e: Emitter, pre: PrefixSpec, def: FieldSpec, ctx: Ctx, u: string, at: string): string {
  const w = prefixWidth(pre)
  if (pre.encoding === 'binary') {
    let s = ''
    for (let i = 0; i < w; i++) s += `o[${at} + ${int(i)}] = Math.floor(${u} / ${int(2 ** (8 * (w - 1 - i)))}) & 255\n`
    return s
  }
  if (pre.encoding === 'bcd') {
    let s = ''
    for (let i = 0; i < w; i++) s += `o[${at} + ${int(i)}] = BCD[Math.floor(${u} / ${int(100 ** (w - 1 - i))}) % 100]\n`
    return s
  }
  const zero = ctx.charset(pre.encoding, def, ctx.codepage).zero
  let s = ''
  for (let i = 0; i < w; i++) s += `o[${at} + ${int(i)}] = ${int(zero)} + Math.floor(${u} / ${int(10 ** (w - 1 - i))}) % 10\n`
  return s
}

/** Longest fixed-length value whose character writes are unrolled (longer ones use a loop). */
const MAX_UNROLL = 48

/**
 * Code writing the digits of string v (length len, or the constant `fixed`) as packed BCD at p.
 * Validity is accumulated over all digits and checked once at the end (the bytes written for an
 * invalid value are never used: the function returns -1 and the closure path starts over).
 */
function genWriteBcdDigits(e: Emitter, def: FieldSpec, v: string, len: string, fixed: number | undefined): string {
  const left = def.bcd?.justify === 'left'
  const pad = parseInt(def.bcd?.pad ?? '0', 16)
  const hex = def.type === 'z'
  const bad = e.tmp('bad')
  const c = e.tmp('c')
  const hi = e.tmp('hi')
  const lo = e.tmp('lo')
  // Nibble of the character at idx into dst. Type n: digits only, a nibble outside 0..9 makes bad
  // negative. Type z: NIBZ, where anything else gives -1 or sets bits above 15.
  const nibble = (dst: string, idx: string): string =>
    hex ? `${c} = ${v}.charCodeAt(${idx}); ${dst} = NIBZ[${c} & 127] | (${c} & -128); ${bad} |= ${dst}\n` : `${dst} = ${v}.charCodeAt(${idx}) - 48; ${bad} |= ${dst} | (9 - ${dst})\n`
  const check = hex ? `if ((${bad} & -16) !== 0) return -1\n` : `if (${bad} < 0) return -1\n`
  let s = `{ let ${bad} = 0, ${hi} = 0, ${lo} = 0${hex ? `, ${c} = 0` : ''}\n`
  if (fixed !== undefined && fixed <= MAX_UNROLL) {
    const nb = (fixed + 1) >> 1
    let k = 0
    for (let b = 0; b < nb; b++) {
      if (fixed & 1 && !left && b === 0) {
        s += nibble(lo, int(k++)) + `o[p] = ${int(pad << 4)} | ${lo}\n`
      } else if (fixed & 1 && left && b === nb - 1) {
        s += nibble(hi, int(k++)) + `o[p + ${int(b)}] = (${hi} << 4) | ${int(pad)}\n`
      } else {
        s += nibble(hi, int(k++)) + nibble(lo, int(k++)) + `o[p + ${int(b)}] = (${hi} << 4) | ${lo}\n`
      }
    }
    return s + check + `p += ${int(nb)} }\n`
  }
  const i = e.tmp('i')
  const last = e.tmp('last')
  s += `let ${i} = 0, ${last} = ${len}\n`
  if (left) s += `if (${len} & 1) ${last} = ${len} - 1\n`
  else s += `if (${len} & 1) { ${nibble(lo, '0')}o[p++] = ${int(pad << 4)} | ${lo}; ${i} = 1 }\n`
  s += `for (; ${i} < ${last}; ${i} += 2) { ${nibble(hi, i)}${nibble(lo, `${i} + 1`)}o[p++] = (${hi} << 4) | ${lo} }\n`
  if (left) s += `if (${last} !== ${len}) { ${nibble(hi, last)}o[p++] = (${hi} << 4) | ${int(pad)} }\n`
  return s + check + '}\n'
}

/**
 * Code writing text v (length len, or the constant `fixed`) at p (character-per-byte charset).
 * As for BCD, validity (every character below 256; digits for type n) is checked once at the end.
 */
function genWriteText(e: Emitter, def: FieldSpec, cs: Charset, v: string, len: string, fixed: number | undefined): string {
  const bad = e.tmp('bad')
  const c = e.tmp('c')
  const numeric = def.type === 'n'
  const t = numeric || cs.name === 'ascii' ? '' : e.ref(cs.fromLatin1)
  // One character at idx written at `at`.
  const one = (idx: string, at: string): string =>
    numeric
      ? `${c} = ${v}.charCodeAt(${idx}) - 48; ${bad} |= ${c} | (9 - ${c}); o[${at}] = ${int(cs.zero)} + ${c}\n`
      : `${c} = ${v}.charCodeAt(${idx}); ${bad} |= ${c}; o[${at}] = ${t ? `${t}[${c} & 255]` : c}\n`
  const check = numeric ? `if (${bad} < 0) return -1\n` : `if (${bad} > 255) return -1\n`
  let s = `{ let ${bad} = 0, ${c} = 0\n`
  if (fixed !== undefined && fixed <= MAX_UNROLL) {
    for (let k = 0; k < fixed; k++) s += one(int(k), `p + ${int(k)}`)
    return s + check + `p += ${int(fixed)} }\n`
  }
  const i = e.tmp('i')
  s += `for (let ${i} = 0; ${i} < ${len}; ${i}++) { ${one(i, `p + ${i}`)}}\n`
  return s + check + `p += ${len} }\n`
}

/** Code encoding value `v` of one field at p. Returns false from the generated function when the closure path must decide. */
function genEncodeField(e: Emitter, def: FieldSpec, codec: FieldCodec, ctx: Ctx, v: string, reserved: boolean): string {
  const composite = bitmapComposite(def)
  if (composite) return genEncodeBitmapComposite(e, def, composite, codec, ctx, v, reserved)
  const kind = def.composite ? undefined : primitiveKind(def)
  const max = maxLength(def)
  if (kind === undefined) return `if (p > o.length) return -1\nw.pos = p; ${e.ref(codec)}.encode(${v}, w); o = w.buf; p = w.pos\n`
  const inner = def.codepage ? def.codepage : ctx.codepage
  const pre = def.prefix
  const pw = pre ? prefixWidth(pre) : 0
  const u = e.tmp('u')
  const room = (n: string): string => (reserved ? '' : ensure(n))
  if (kind === 'binary') {
    // Hex strings and wrong lengths: closure path.
    let s = `if (!(${v} instanceof Uint8Array)) return -1\n{ const ${u} = ${v}.length\n`
    s += pre ? `if (${u} > ${int(max)}) return -1\n` : `if (${u} !== ${int(max)}) return -1\n`
    s += room(`${u} + ${int(pw)}`)
    if (pre) s += genWritePrefix(e, pre, def, ctx, u, 'p') + `p += ${int(pw)}\n`
    s += `if (${u} <= 32) { for (let j = 0; j < ${u}; j++) o[p + j] = ${v}[j] } else o.set(${v}, p)\np += ${u} }\n`
    return s
  }
  let s = `if (typeof ${v} !== 'string') return -1\n{ const ${u} = ${v}.length\n`
  if (kind === 'text') {
    const cs = ctx.charset(def.encoding as 'ascii' | 'ebcdic', def, inner)
    // Shorter fixed values need padding: closure path.
    s += pre ? `if (${u} > ${int(max)}) return -1\n` : `if (${u} !== ${int(max)}) return -1\n`
    s += room(`${u} + ${int(pw)}`)
    if (pre) s += genWritePrefix(e, pre, def, ctx, u, 'p') + `p += ${int(pw)}\n`
    return s + genWriteText(e, def, cs, v, u, pre ? undefined : max) + '}\n'
  }
  // BCD. Byte units: the value holds every nibble (an even count on the fast path).
  const digitUnits = defaultUnit(def) !== 'bytes'
  const units = digitUnits ? u : `(${u} >> 1)`
  if (!digitUnits) s += `if (${u} & 1) return -1\n`
  s += pre ? `if (${units} > ${int(max)}) return -1\n` : `if (${units} !== ${int(max)}) return -1\n`
  s += room(`((${u} + 1) >> 1) + ${int(pw)}`)
  if (pre) s += genWritePrefix(e, pre, def, ctx, units, 'p') + `p += ${int(pw)}\n`
  return s + genWriteBcdDigits(e, def, v, u, pre ? undefined : digitUnits ? max : 2 * max) + '}\n'
}


/**
 * Code visiting the present entries of `obj` (fields or subfields, in number order, constant
 * indices) instead of enumerating its keys. The values found must be exactly the object's own
 * enumerable values in enumeration order (`Object.values`, which for integer keys costs far less
 * than `Object.keys`): any other key (an undefined field, "02", `_rest`, a name) leaves values
 * unmatched and the function returns -1 so that the closure path reports or handles it. The scan
 * stops once every value is matched.
 */
function genScan(e: Emitter, obj: string, entries: { n: number; code: (v: string) => string; before?: string }[], after: (n: number) => string): string {
  const vals = e.tmp('vals')
  const nv = e.tmp('nv')
  const j = e.tmp('j')
  const v = e.tmp('v')
  const label = e.tmp('scan')
  const skip = `while (${j} < ${nv} && ${vals}[${j}] === undefined) ${j}++\n`
  let s = `const ${vals} = Object.values(${obj}), ${nv} = ${vals}.length\nlet ${j} = 0, ${v}\n${skip}${label}: {\nif (${j} === ${nv}) break ${label}\n`
  for (const { n, code, before } of entries) {
    s += (before ?? '') + `${v} = ${obj}[${int(n)}]\nif (${v} !== undefined) {\nif (${vals}[${j}] !== ${v}) return -1\n${j}++\n`
    s += code(v) + after(n) + skip + `if (${j} === ${nv}) break ${label}\n}\n`
  }
  return s + 'return -1\n}\n'
}

function genEncodeBitmapComposite(e: Emitter, def: FieldSpec, c: Extract<CompositeSpec, { kind: 'bitmap' }>, codec: FieldCodec, ctx: Ctx, v: string, reserved: boolean): string {
  const max = maxLength(def)
  const bytes = c.bitmap.bytes
  const bits = bytes * 8
  const inner: Ctx = def.codepage ? { ...ctx, codepage: def.codepage } : ctx
  const pw = def.prefix ? prefixWidth(def.prefix) : 0
  const at = e.tmp('at')
  const bmAt = e.tmp('bmAt')
  const len = e.tmp('len')
  let s = `if (typeof ${v} !== 'object' || ${v} === null || ${v} instanceof Uint8Array) return -1\n{\n`
  if (!reserved) s += ensure(int(pw + bytes))
  // The subfield bitmap is collected in 32-bit locals and written once the subfields are.
  const words = Array.from({ length: (bytes + 3) >> 2 }, () => e.tmp('bw'))
  s += `const ${at} = p\np += ${int(pw)}\nconst ${bmAt} = p\nlet ${words.map((x) => `${x} = 0`).join(', ')}\n`
  s += `p += ${int(bytes)}\n`
  const entries = subfieldEntries(c.subfields).map(([sn, sub]) => {
    const child = codec.children?.get(String(sn))
    if (!child) throw new Error('code generation: compiled subfield missing')
    // Room reserved for the composite covers the most every subfield can write.
    return { n: sn, code: (x: string) => genEncodeField(e, sub, child, inner, x, reserved) }
  })
  const afterSub = (sn: number): string => `${words[(sn - 1) >> 5]} |= ${int(2 ** (31 - ((sn - 1) & 31)))}\n`
  s += genScan(e, v, entries, afterSub)
  for (let i = 0; i < bytes; i++) s += `o[${bmAt} + ${int(i)}] = ${words[i >> 2]} >>> ${int(24 - 8 * (i & 3))}\n`
  s += `const ${len} = p - ${bmAt}\n`
  if (def.prefix) s += `if (${len} > ${int(max)}) return -1\n` + genWritePrefix(e, def.prefix, def, ctx, len, at)
  else s += `if (${len} !== ${int(max)}) return -1\n`
  return s + '}\n'
}

/**
 * Generate the body encoder of a spec. It reads every defined field number in ascending order
 * (straight-line code, constant indices) instead of enumerating the message's keys, and checks
 * that the values it found are exactly the message's own enumerable values, in order
 * (`Object.values`, much cheaper than `Object.keys` for integer keys): any other key — an
 * undefined field, "02", a name — makes the counts differ and the closure path reports it.
 */
export function generateBodyEncoder(fields: Record<string, FieldSpec>, codecs: readonly (FieldCodec | undefined)[], tertiary: boolean, ctx: Ctx): BodyEncoder {
  const e = new Emitter()
  const maxField = tertiary ? 192 : 128
  // Small field encoders are inlined into the driver; larger ones (composites, loops) become
  // functions of their own, and so does everything once the driver reaches its size budget
  // (V8 does not optimise functions above ~60 KB of bytecode).
  let fns = ''
  let inlined = 0
  const entries: { n: number; code: (v: string) => string; before?: string }[] = []
  // Fields with a small bound on what they write (maxEncoded) are grouped into runs of at most
  // RUN_MAX bytes: one room check before the run (passed even when none of its fields is
  // present) covers all of them, and they are written without checks of their own.
  const runs: { start: number; bytes: number }[] = []
  let run: { start: number; bytes: number } | undefined
  for (let n = 2; n <= maxField; n++) {
    const c = codecs[n]
    if (c === undefined || (n === 65 && tertiary)) continue
    const def = fields[String(n)]!
    const m = maxEncoded(def)
    if (m === undefined) run = undefined
    else if (run === undefined || run.bytes + m > RUN_MAX) runs.push((run = { start: entries.length, bytes: m }))
    else run.bytes += m
    const body = genEncodeField(e, def, c, ctx, 'v', m !== undefined)
    if (body.length <= INLINE_MAX && inlined + body.length <= DRIVER_BUDGET) {
      inlined += body.length
      entries.push({ n, code: (v) => `{ const v = ${v}\n${body}}\n` })
    } else {
      fns += `function e${int(n)}(v, w, p) {\nlet o = w.buf\n${body}return p\n}\n`
      entries.push({ n, code: (v) => `p = e${int(n)}(${v}, w, p)\nif (p < 0) return -1\no = w.buf\n` })
    }
  }
  // The first field of each run carries the run's room check.
  for (const r of runs) entries[r.start]!.before = ensure(int(r.bytes))
  // The bitmap is collected in 32-bit locals and stored into bm (every byte) once the fields are written.
  const words = Array.from({ length: maxField / 32 }, () => e.tmp('bw'))
  let s = `return function encodeBody(f, w, bm) {\nlet o = w.buf, p = w.pos, hi = 0, ${words.map((x) => `${x} = 0`).join(', ')}\n`
  s += genScan(e, 'f', entries, (n) => `${words[(n - 1) >> 5]} |= ${int(2 ** (31 - ((n - 1) & 31)))}\nhi = ${int(n)}\n`)
  for (let i = 0; i < maxField / 8; i++) s += `bm[${int(i)}] = ${words[i >> 2]} >>> ${int(24 - 8 * (i & 3))}\n`
  s += `if (p > o.length) return -1\nw.pos = p\nreturn hi\n}`
  return e.build<BodyEncoder>(fns + s)
}

/** Largest field encoder (source characters) inlined into the driver. */
const INLINE_MAX = 900
/** Source characters of inlined field encoders per driver (well below V8's optimisation limit). */
const DRIVER_BUDGET = 20000
