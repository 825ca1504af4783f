/**
 * A compiled spec: MTI codec, bitmap codec and one FieldCodec per field number, built once from a
 * validated spec document, plus a generated body decoder/encoder (codegen.ts) that handles the
 * common field kinds inline and hands anything unusual back to the FieldCodecs.
 */
import { ASCII, charsetByName, type Charset } from './charsets.js'
import { generateBodyDecoder, generateBodyEncoder, type BodyDecoder, type BodyEncoder } from './codegen.js'
import { decodeError, encodeError } from './errors.js'
import { charsetFor, compileField, type FieldCodec } from './field.js'
import { HEX_VALUE, Writer, type Reader } from './io.js'
import { DIGIT_PAIRS } from './primitive.js'
import type { FieldValue, Message } from './message-types.js'
import type { SpecDocument } from './spec-types.js'

/** Output slab shared by all specs (see Writer); 8 KB like Node's own Buffer pool, so a kept message retains no more than an allocUnsafe one did. */
const writer = new Writer(8192)
/** Free bytes wanted in the slab before a message is started there. */
const ROOM = 2048
const bm = new Uint8Array(24)
const HEX = '0123456789ABCDEF'
/** Canonical key strings of field numbers, to reject keys like "02" without allocating. */
const KEYS: readonly string[] = Array.from({ length: 193 }, (_, i) => String(i))

/** Buffer view of a Uint8Array (no copy); Buffers pass through. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

function checkMessage(msg: Message): void {
  if (typeof msg !== 'object' || msg === null || typeof msg.fields !== 'object' || msg.fields === null) {
    encodeError('INVALID_VALUE', '', 'expected { mti, fields }')
  }
}

/** Number of the highest bit set in bm[0..nBytes). */
function highestBit(nBytes: number): number {
  for (let i = nBytes - 1; i >= 0; i--) {
    const b = bm[i]!
    // Bits are numbered from the most significant bit, so the highest number is the lowest set bit.
    if (b !== 0) return i * 8 + 8 - (31 - Math.clz32(b & -b))
  }
  return 0
}

/** A dialect compiled from a spec document. Create with `getSpec` or `compileSpec`. */
export class Iso8583Spec {
  readonly name: string
  readonly doc: SpecDocument
  /** Compiled field codecs indexed by field number. */
  readonly fields: readonly (FieldCodec | undefined)[]
  private readonly maxField: number
  private readonly tertiary: boolean
  private readonly mtiCs: Charset | undefined
  /** allowed MTIs as a 10,000-entry table indexed by the MTI's numeric value (no string hashing per decode). */
  private readonly allowedTable: Uint8Array | undefined
  private readonly bitmapHexCs: Charset | undefined
  private readonly decodeBody: BodyDecoder
  private readonly encodeBody: BodyEncoder

  constructor(doc: SpecDocument) {
    this.name = doc.name
    this.doc = doc
    const ctx = { codepage: doc.codepage ?? 'cp037' }
    this.tertiary = doc.bitmap.tertiary === true
    this.maxField = this.tertiary ? 192 : 128
    const fields: (FieldCodec | undefined)[] = new Array<FieldCodec | undefined>(this.maxField + 1).fill(undefined)
    for (const [k, def] of Object.entries(doc.fields)) fields[Number(k)] = compileField(def, k, ctx)
    this.fields = fields
    this.mtiCs = doc.mti.encoding === 'bcd' ? undefined : doc.mti.encoding === 'ascii' ? ASCII : charsetByName(ctx.codepage)
    if (doc.mti.allowed) {
      const table = new Uint8Array(10000)
      for (const m of doc.mti.allowed) table[Number(m)] = 1
      this.allowedTable = table
    }
    this.bitmapHexCs = doc.bitmap.encoding === 'binary' ? undefined : doc.bitmap.encoding === 'hex-ascii' ? ASCII : charsetByName(ctx.codepage)
    const gen = { codepage: ctx.codepage, charset: (enc: 'ascii' | 'ebcdic', def: { codepage?: 'cp037' | 'cp1047' }, codepage: 'cp037' | 'cp1047') => charsetFor(enc, def, { codepage }) }
    this.decodeBody = generateBodyDecoder(doc.fields, fields, this.tertiary, gen)
    this.encodeBody = generateBodyEncoder(doc.fields, fields, this.tertiary, gen)
  }

  /** The compiled codec of a field or subfield path ("2", "62.2", "48.42"), if defined. */
  field(path: string): FieldCodec | undefined {
    const parts = path.split('.')
    let c = this.fields[Number(parts[0])]
    for (let i = 1; c && i < parts.length; i++) c = c.children?.get(parts[i]!)
    return c
  }

  /** Decode a whole message; the buffer must hold exactly one message (no framing, no header). */
  decode(input: Uint8Array): Message {
    // Anything the generated fast path does not accept as plainly valid is decoded again by the
    // field codecs, which raise the typed error (or keep undescribed subfields under _rest).
    return this.decodeFast(input) ?? this.decodeReference(input)
  }

  /**
   * The generated fast path alone: the decoded message, or null where `decode` hands over to the
   * field codecs. MTI and bitmap errors are thrown as by `decode`. For tests and benchmarks.
   * @internal
   */
  decodeFast(input: Uint8Array): Message | null {
    const buf = asBuffer(input)
    const r: Reader = { buf, pos: 0 }
    const end = buf.length
    const mti = this.readMti(r, end)
    const nBytes = this.readBitmap(r, end)
    let fields: Record<string, FieldValue> | null
    try {
      fields = this.decodeBody(buf, end, bm, nBytes, highestBit(nBytes), r)
    } catch {
      // A field codec called by the fast path threw: the closure path reports the canonical error.
      return null
    }
    return fields === null ? null : { mti, fields }
  }

  /** The closure-based body decoder (reference for the generated one). */
  private decodeFields(r: Reader, end: number, nBytes: number, top: number): Record<string, FieldValue> {
    const fields: Record<string, FieldValue> = {}
    const codecs = this.fields
    const tertiary = this.tertiary
    if (top > 1) fields[top] = ''
    for (let i = 0; i < nBytes; i++) {
      const b = bm[i]!
      if (b === 0) continue
      for (let j = 0; j < 8; j++) {
        if (!(b & (0x80 >> j))) continue
        const n = i * 8 + j + 1
        if (n === 1 || (n === 65 && tertiary)) continue
        const c = codecs[n]
        if (c === undefined) decodeError('UNDEFINED_FIELD', String(n), r.pos, 'bitmap bit set for a field the spec does not define')
        fields[n] = c.decode(r, end)
      }
    }
    if (r.pos !== end) decodeError('TRAILING_BYTES', '', r.pos, 'bytes left after the last field')
    return fields
  }

  /**
   * Decode with the field codecs only, bypassing the generated fast path (same results and errors
   * as `decode`; it is also where `decode` hands over anything its fast path does not accept).
   * @internal
   */
  decodeReference(input: Uint8Array): Message {
    const buf = asBuffer(input)
    const r: Reader = { buf, pos: 0 }
    const end = buf.length
    const mti = this.readMti(r, end)
    const nBytes = this.readBitmap(r, end)
    return { mti, fields: this.decodeFields(r, end, nBytes, highestBit(nBytes)) }
  }

  /**
   * Read the MTI and only the wanted fields (e.g. 7, 11, 32, 37 for duplicate detection); other
   * fields are skipped by length without building values. Stops after the highest wanted field.
   */
  scan(input: Uint8Array, wanted: readonly (string | number)[]): Message {
    const buf = asBuffer(input)
    const r: Reader = { buf, pos: 0 }
    const end = buf.length
    const mti = this.readMti(r, end)
    const nBytes = this.readBitmap(r, end)
    const want = new Set(wanted.map(Number))
    let highest = 0
    for (const n of want) if (n > highest) highest = n
    const fields: Record<string, FieldValue> = {}
    const tertiary = this.tertiary
    for (let n = 2; n <= Math.min(highest, nBytes * 8); n++) {
      if (!(bm[(n - 1) >> 3]! & (0x80 >> ((n - 1) & 7)))) continue
      if (n === 65 && tertiary) continue
      const c = this.fields[n]
      if (c === undefined) decodeError('UNDEFINED_FIELD', String(n), r.pos, 'bitmap bit set for a field the spec does not define')
      if (want.has(n)) fields[n] = c.decode(r, end)
      else c.skip(r, end)
    }
    return { mti, fields }
  }

  /** Encode a message. Fields are written in number order; an empty secondary bitmap is omitted. */
  encode(msg: Message): Buffer {
    return this.encodeFast(msg) ?? this.encodeReference(msg)
  }

  /**
   * The generated fast path alone: the encoded message, or null where `encode` hands over to the
   * field codecs (which raise the typed error, pad short values, parse hex …). Message and MTI
   * errors are thrown as by `encode`. For tests and benchmarks.
   * @internal
   */
  encodeFast(msg: Message): Buffer | null {
    checkMessage(msg)
    this.checkMti(msg.mti)
    const w = writer
    w.begin(ROOM)
    // The fields go after room for the largest bitmap; the MTI and the bitmap, whose size is known
    // once the highest field is, are then written right before them.
    const mtiWidth = this.mtiCs === undefined ? 2 : 4
    const maxBytes = this.tertiary ? 24 : 16
    const hex = this.bitmapHexCs !== undefined
    const fieldsAt = w.base + mtiWidth + (hex ? 2 * maxBytes : maxBytes)
    // begin() left at least ROOM bytes free, more than the MTI and the largest bitmap need.
    w.pos = fieldsAt
    // encodeBody stores every byte of the bitmap (all maxBytes of them).
    let highest: number
    try {
      highest = this.encodeBody(msg.fields, w, bm)
    } catch {
      // A field codec called by the fast path threw: the closure path reports the canonical error
      // (the fast path may not have met the message's keys in the same order).
      return null
    }
    if (highest < 0) return null
    const nBytes = highest > 128 ? 24 : highest > 64 ? 16 : 8
    if (nBytes > 8) bm[0]! |= 0x80
    if (nBytes > 16) bm[8]! |= 0x80
    const start = fieldsAt - (hex ? 2 * nBytes : nBytes) - mtiWidth
    w.base = start
    this.writeMtiAt(msg.mti, w.buf, start)
    this.writeBitmapAt(w.buf, start + mtiWidth, nBytes)
    return w.finish()
  }

  /**
   * Encode with the field codecs only, bypassing the generated fast path (same bytes and errors
   * as `encode`; it is also where `encode` hands over anything its fast path does not accept).
   * @internal
   */
  encodeReference(msg: Message): Buffer {
    checkMessage(msg)
    this.checkMti(msg.mti)
    const w = writer
    w.begin(ROOM)
    w.ensure(4)
    this.writeMtiAt(msg.mti, w.buf, w.pos)
    w.pos += this.mtiCs === undefined ? 2 : 4
    const fields = msg.fields
    const keys = Object.keys(fields)
    // Integer-like keys enumerate in ascending order, so the last defined one decides the bitmap size.
    let highest = 0
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!
      if (fields[k] === undefined || KEYS[+k] !== k) continue
      highest = +k
      break
    }
    const nBytes = highest > 128 ? 24 : highest > 64 ? 16 : 8
    for (let i = 0; i < nBytes; i++) bm[i] = 0
    if (nBytes > 8) bm[0] = 0x80
    if (nBytes > 16) bm[8] = 0x80
    const bmWidth = this.bitmapHexCs !== undefined ? nBytes * 2 : nBytes
    w.ensure(bmWidth)
    const bmAt = w.pos
    w.pos += bmWidth
    const codecs = this.fields
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      const v = fields[k]
      if (v === undefined) continue
      const n = +k
      const c = n >= 2 && n <= highest && KEYS[n] === k && !(n === 65 && this.tertiary) ? codecs[n] : undefined
      if (c === undefined) encodeError('UNDEFINED_FIELD', k, 'field not defined by the spec')
      bm[(n - 1) >> 3]! |= 0x80 >> ((n - 1) & 7)
      c.encode(v, w)
    }
    this.writeBitmapAt(w.buf, bmAt, nBytes)
    return w.finish()
  }

  private writeBitmapAt(out: Buffer, at: number, nBytes: number): void {
    if (this.bitmapHexCs !== undefined) {
      const from = this.bitmapHexCs.fromLatin1
      for (let i = 0; i < nBytes; i++) {
        out[at + 2 * i] = from[HEX.charCodeAt(bm[i]! >> 4)]!
        out[at + 2 * i + 1] = from[HEX.charCodeAt(bm[i]! & 15)]!
      }
    } else for (let i = 0; i < nBytes; i++) out[at + i] = bm[i]!
  }

  private readMti(r: Reader, end: number): string {
    const buf = r.buf
    let mti: string
    let number = 0
    if (this.mtiCs === undefined) {
      if (end < 2) decodeError('TRUNCATED', 'mti', 0, 'frame ends inside the MTI')
      const x = buf[0]!
      const y = buf[1]!
      const a = DIGIT_PAIRS[x]
      const b = DIGIT_PAIRS[y]
      if (a === undefined || b === undefined) decodeError('INVALID_MTI', 'mti', a === undefined ? 0 : 1, 'MTI is not numeric')
      mti = a + b
      number = (x >> 4) * 1000 + (x & 15) * 100 + (y >> 4) * 10 + (y & 15)
      r.pos = 2
    } else {
      if (end < 4) decodeError('TRUNCATED', 'mti', 0, 'frame ends inside the MTI')
      const zero = this.mtiCs.zero
      mti = ''
      for (let i = 0; i < 4; i++) {
        const d = buf[i]! - zero
        if (d < 0 || d > 9) decodeError('INVALID_MTI', 'mti', i, 'MTI is not numeric')
        mti += HEX[d]
        number = number * 10 + d
      }
      r.pos = 4
    }
    if (this.allowedTable && this.allowedTable[number] !== 1) decodeError('UNKNOWN_MTI', 'mti', 0, 'MTI not defined by the spec')
    return mti
  }

  private checkMti(mti: string): void {
    if (typeof mti !== 'string' || mti.length !== 4 || !isDigits(mti)) encodeError('INVALID_MTI', 'mti', 'MTI must be four digits')
    if (this.allowedTable) {
      const n = (mti.charCodeAt(0) - 48) * 1000 + (mti.charCodeAt(1) - 48) * 100 + (mti.charCodeAt(2) - 48) * 10 + (mti.charCodeAt(3) - 48)
      if (this.allowedTable[n] !== 1) encodeError('UNKNOWN_MTI', 'mti', 'MTI not defined by the spec')
    }
  }

  /** Write a checked MTI at `at` (room reserved). */
  private writeMtiAt(mti: string, out: Buffer, at: number): void {
    if (this.mtiCs === undefined) {
      out[at] = ((mti.charCodeAt(0) - 48) << 4) | (mti.charCodeAt(1) - 48)
      out[at + 1] = ((mti.charCodeAt(2) - 48) << 4) | (mti.charCodeAt(3) - 48)
    } else {
      for (let i = 0; i < 4; i++) out[at + i] = this.mtiCs.zero + mti.charCodeAt(i) - 48
    }
  }

  /** Fill `bm` with the bitmaps at r.pos; returns how many bitmap bytes are in use (8, 16, 24). */
  private readBitmap(r: Reader, end: number): number {
    let n = 8
    let i = 0
    while (i < n) {
      this.readBitmapBlock(r, end, i)
      if (i > 0) {
        let any = 0
        for (let k = i; k < i + 8; k++) any |= bm[k]!
        if (any === 0) decodeError('NON_CANONICAL_BITMAP', 'bitmap', r.pos, 'extension bitmap present but empty')
      }
      if (bm[i]! & 0x80 && (i === 0 || (i === 8 && this.tertiary))) n += 8
      i += 8
    }
    return n
  }

  private readBitmapBlock(r: Reader, end: number, at: number): void {
    const buf = r.buf
    const p = r.pos
    if (this.bitmapHexCs === undefined) {
      if (p + 8 > end) decodeError('TRUNCATED', 'bitmap', p, 'frame ends inside the bitmap')
      for (let k = 0; k < 8; k++) bm[at + k] = buf[p + k]!
      r.pos = p + 8
      return
    }
    if (p + 16 > end) decodeError('TRUNCATED', 'bitmap', p, 'frame ends inside the bitmap')
    const to = this.bitmapHexCs.toLatin1
    for (let k = 0; k < 8; k++) {
      const h = HEX_VALUE[to[buf[p + 2 * k]!]!]!
      const l = HEX_VALUE[to[buf[p + 2 * k + 1]!]!]!
      if (h < 0 || l < 0) decodeError('INVALID_BITMAP', 'bitmap', p + 2 * k, 'bitmap is not upper-case hex')
      bm[at + k] = (h << 4) | l
    }
    r.pos = p + 16
  }
}
