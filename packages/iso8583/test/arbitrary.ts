/**
 * fast-check arbitraries derived from spec documents, and byte-level mutators, shared by the fuzz
 * test (normal test run) and bench/fuzz-long.ts.
 */
import fc from 'fast-check'
import { Iso8583Error, type Composite, type FieldSpec, type FieldValue, type Iso8583Spec, type Message } from '../src/index.js'

const DIGITS = '0123456789'.split('')
const TEXT = Array.from({ length: 224 }, (_, i) => String.fromCharCode(i + 32)) // Latin-1 printable-ish: any byte round-trips
const TRACK = [...DIGITS, 'D']

/** Variable fields are kept short so messages stay small and fast; limits are still exercised by mutation. */
const VAR_CAP = 24

function str(chars: string[], min: number, max: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max })
}

function lengths(def: FieldSpec, cap = VAR_CAP): [number, number] {
  if (def.prefix || def.rest) return [def.rest ? 1 : 0, Math.min(def.length, cap)]
  return [def.length, def.length]
}

/** Arbitrary value for one field definition. */
export function fieldArb(def: FieldSpec, sized = false): fc.Arbitrary<FieldValue> {
  if (def.composite) return compositeArb(def)
  const [min, max] = sized ? [0, Math.min(def.length, VAR_CAP)] : lengths(def)
  switch (def.type) {
    case 'n':
      if (def.encoding === 'bcd' && def.unit === 'bytes') return str(DIGITS, min * 2, max * 2).map((s) => (s.length % 2 ? s + '0' : s))
      return str(DIGITS, min, max)
    case 'z':
      return def.encoding === 'bcd' ? str(TRACK, min, max) : str([...DIGITS, '='], min, max)
    case 'x+n':
      return fc.tuple(fc.constantFrom('C', 'D'), str(DIGITS, min, max)).map(([s, d]) => s + d)
    case 'b': {
      const f = def.unit === 'chars' ? 2 : 1
      return fc.uint8Array({ minLength: Math.ceil(min / f), maxLength: Math.floor(max / f) }).map((u) => Buffer.from(u))
    }
    default:
      return str(TEXT, min, max)
  }
}

function compositeArb(def: FieldSpec): fc.Arbitrary<FieldValue> {
  const c = def.composite!
  switch (c.kind) {
    case 'positional': {
      const keys = Object.keys(c.subfields).sort((a, b) => Number(a) - Number(b))
      return fc.tuple(fc.integer({ min: 1, max: keys.length }), fc.tuple(...keys.map((k) => fieldArb(c.subfields[k]!)))).map(([n, vals]) => {
        const o: Composite = {}
        for (let i = 0; i < n; i++) o[keys[i]!] = vals[i]!
        return o
      })
    }
    case 'bitmap': {
      const rec: Record<string, fc.Arbitrary<FieldValue>> = {}
      for (const [k, d] of Object.entries(c.subfields)) rec[k] = fieldArb(d)
      return fc.record(rec, { requiredKeys: [] }) as fc.Arbitrary<FieldValue>
    }
    case 'tagged': {
      const lead: Record<string, fc.Arbitrary<FieldValue>> = {}
      for (const [k, d] of Object.entries(c.leading ?? {})) lead[k] = fieldArb(d)
      const known: Record<string, fc.Arbitrary<FieldValue>> = {}
      for (const [k, d] of Object.entries(c.subfields ?? {})) known[k] = fieldArb(d, true)
      const tagChars = c.tag.length === 2 ? DIGITS : [...DIGITS, 'A', 'Z']
      const unknown = fc.dictionary(str(tagChars, c.tag.length, c.tag.length), str(TEXT, 0, 12), { maxKeys: 3 })
      return fc.tuple(fc.record(lead), fc.record(known, { requiredKeys: [] }), unknown).map(([l, k, u]) => {
        const o: Composite = { ...l }
        for (const [tag, v] of Object.entries(u)) if (!(tag in (c.subfields ?? {})) && !(tag in o)) o[tag] = v
        return Object.assign(o, k)
      })
    }
  }
}

/** Arbitrary message for a compiled spec: a random subset of its fields. */
export function messageArb(spec: Iso8583Spec): fc.Arbitrary<Message> {
  const doc = spec.doc
  const fields: Record<string, fc.Arbitrary<FieldValue>> = {}
  for (const [k, d] of Object.entries(doc.fields)) fields[k] = fieldArb(d)
  const mti = doc.mti.allowed ? fc.constantFrom(...doc.mti.allowed) : str(DIGITS, 4, 4)
  const keys = Object.keys(fields)
  // Pick ~2-25 fields; fc.record with all-optional keys would include each with probability 1/2.
  return fc.tuple(mti, fc.subarray(keys, { minLength: 1, maxLength: Math.min(25, keys.length) })).chain(([m, chosen]) => {
    const rec: Record<string, fc.Arbitrary<FieldValue>> = {}
    for (const k of chosen) rec[k] = fields[k]!
    return fc.record(rec).map((f) => ({ mti: m, fields: f as Record<string, FieldValue> }))
  })
}

/** Small seeded PRNG (xorshift32) so that mutations are reproducible from a fast-check seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 0x100000000
  }
}

const BOUNDARY = [0x00, 0xff, 0x7f, 0x80, 0x30, 0x39, 0x3a, 0xf0, 0xf9, 0xfa, 0x99, 0x9a, 0x40]

/** One random mutation of a frame. */
export function mutate(frame: Buffer, rnd: () => number): Buffer {
  const n = frame.length
  const at = (): number => Math.floor(rnd() * Math.max(1, n))
  const byte = (): number => (rnd() < 0.5 ? BOUNDARY[Math.floor(rnd() * BOUNDARY.length)]! : Math.floor(rnd() * 256))
  const out = Buffer.from(frame)
  switch (Math.floor(rnd() * 9)) {
    case 0:
      if (n) out[at()] = byte()
      return out
    case 1:
      if (n) out[at()]! ^= 1 << Math.floor(rnd() * 8)
      return out
    case 2:
      return out.subarray(0, at())
    case 3:
      return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 8) }, byte))])
    case 4: {
      const a = at()
      return Buffer.concat([out.subarray(0, a), out.subarray(Math.min(n, a + 1 + Math.floor(rnd() * 8)))])
    }
    case 5: {
      const a = at()
      return Buffer.concat([out.subarray(0, a), Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 4) }, byte)), out.subarray(a)])
    }
    case 6:
      // bitmap and first length prefixes
      for (let i = 0; i < 3; i++) out[Math.min(n - 1, 2 + Math.floor(rnd() * 24))] = byte()
      return out
    case 7:
      for (let i = 0; i < 4; i++) if (n) out[at()] = byte()
      return out
    default:
      return Buffer.from(Array.from({ length: Math.floor(rnd() * (n + 8)) }, byte))
  }
}

/** Outcome of decoding one frame; throws on any property violation. */
export function checkFrame(spec: Iso8583Spec, frame: Buffer): 'decoded' | 'rejected' {
  let msg: Message
  const started = performance.now()
  try {
    msg = spec.decode(frame)
  } catch (e) {
    if (e instanceof Iso8583Error) return 'rejected'
    throw new Error(`decode threw a non-codec error: ${String(e)} on ${frame.toString('hex')}`)
  } finally {
    // Decoding is linear in the frame; a second for a few hundred bytes would mean a hang.
    if (performance.now() - started > 1000) throw new Error(`decode took over a second on ${frame.toString('hex')}`)
  }
  // Allocation bound: decoded text is at most two characters per input byte (BCD), fresh binary
  // values at most the frame size; binary views share the frame's memory.
  let chars = 0
  let fresh = 0
  const walk = (v: FieldValue): void => {
    if (typeof v === 'string') chars += v.length
    else if (v instanceof Uint8Array) {
      if (v.buffer !== frame.buffer) fresh += v.length
    } else for (const k of Object.keys(v)) walk(v[k]!)
  }
  for (const k of Object.keys(msg.fields)) walk(msg.fields[k]!)
  if (chars > 2 * frame.length || fresh > frame.length) throw new Error(`decoded values larger than the frame allows on ${frame.toString('hex')}`)
  let again: Buffer
  try {
    again = spec.encode(msg)
  } catch (e) {
    throw new Error(`decodable frame does not re-encode (${(e as Error).message}): ${frame.toString('hex')}`)
  }
  if (!again.equals(frame)) throw new Error(`round trip differs: ${frame.toString('hex')} -> ${again.toString('hex')}`)
  return 'decoded'
}
