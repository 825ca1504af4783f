/**
 * Load-time validation of spec documents: the shape described by spec.schema.json plus the rules
 * a schema cannot express (prefix capacity, BCD only for digits, composite units in bytes…).
 * Every problem is reported with its path; the first one is thrown as INVALID_SPEC.
 */
import { Iso8583SpecError } from './errors.js'
import type { SpecDocument } from './spec-types.js'

const TYPES = new Set(['n', 'a', 'an', 'ans', 'ns', 'anp', 'z', 'b', 'x+n'])
const ENCODINGS = new Set(['ascii', 'ebcdic', 'bcd', 'binary', 'hex-ascii', 'hex-ebcdic'])
const FIELD_KEYS = new Set(['name', 'type', 'encoding', 'length', 'prefix', 'rest', 'unit', 'codepage', 'bcd', 'pad', 'signEncoding', 'mask', 'tlv', 'composite', 'description'])

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max

/** Collects problems as "path: message". */
function checkField(f: unknown, path: string, problems: string[], where: 'field' | 'positional' | 'other'): void {
  const p = (m: string): void => void problems.push(`${path}: ${m}`)
  if (!isObj(f)) return p('must be an object')
  for (const k of Object.keys(f)) if (!FIELD_KEYS.has(k)) p(`unknown property "${k}"`)
  if (!TYPES.has(f.type as string)) p('type must be one of n, a, an, ans, ns, anp, z, b, x+n')
  if (!ENCODINGS.has(f.encoding as string)) p('encoding must be one of ascii, ebcdic, bcd, binary, hex-ascii, hex-ebcdic')
  if (!isInt(f.length, 0, 999999)) p('length must be an integer 0..999999')
  const type = f.type as string
  const enc = f.encoding as string
  if (enc === 'bcd' && !['n', 'z', 'x+n'].includes(type)) p('bcd encoding is only for n, z and x+n')
  if ((enc === 'binary' || enc.startsWith('hex-')) && type !== 'b' && !f.composite) p(`${enc} encoding is only for type b`)
  if (type === 'b' && !(enc === 'binary' || enc.startsWith('hex-')) && !f.composite) p('type b needs binary or hex encoding')
  if (f.codepage !== undefined && f.codepage !== 'cp037' && f.codepage !== 'cp1047') p('codepage must be cp037 or cp1047')
  if (f.unit !== undefined && !['digits', 'chars', 'bytes'].includes(f.unit as string)) p('unit must be digits, chars or bytes')
  if (f.mask !== undefined && !['pan', 'full', 'none'].includes(f.mask as string)) p('mask must be pan, full or none')
  if (f.signEncoding !== undefined && f.signEncoding !== 'ascii' && f.signEncoding !== 'ebcdic') p('signEncoding must be ascii or ebcdic')
  if (f.bcd !== undefined) {
    if (!isObj(f.bcd)) p('bcd must be an object')
    else {
      if (f.bcd.justify !== undefined && f.bcd.justify !== 'left' && f.bcd.justify !== 'right') p('bcd.justify must be left or right')
      if (f.bcd.pad !== undefined && !(typeof f.bcd.pad === 'string' && /^[0-9A-F]$/.test(f.bcd.pad))) p('bcd.pad must be one hex digit')
    }
  }
  if (f.pad !== undefined) {
    if (!isObj(f.pad) || typeof f.pad.char !== 'string' || f.pad.char.length !== 1 || (f.pad.side !== 'left' && f.pad.side !== 'right')) p('pad must be { char: one character, side: left|right }')
  }
  if (f.tlv !== undefined && (!isObj(f.tlv) || (f.tlv.offset !== undefined && !isInt(f.tlv.offset, 0, 16)))) p('tlv must be { offset?: 0..16 }')
  if (f.rest !== undefined) {
    if (typeof f.rest !== 'boolean') p('rest must be a boolean')
    else if (f.rest && where !== 'positional') p('rest is only allowed on positional subfields')
    else if (f.rest && f.prefix !== undefined) p('rest and prefix exclude each other')
  }
  if (f.prefix !== undefined) {
    const pr = f.prefix
    if (!isObj(pr)) p('prefix must be an object')
    else if (pr.encoding === 'binary') {
      if (!isInt(pr.bytes, 1, 4)) p('binary prefix needs bytes 1..4')
      else if (isInt(f.length, 0, 999999) && f.length > 2 ** (8 * pr.bytes) - 1) p('length does not fit the prefix')
    } else if (pr.encoding === 'ascii' || pr.encoding === 'ebcdic' || pr.encoding === 'bcd') {
      if (!isInt(pr.digits, 1, 6)) p('prefix needs digits 1..6')
      else if (isInt(f.length, 0, 999999) && f.length > 10 ** pr.digits - 1) p('length does not fit the prefix')
    } else p('prefix.encoding must be ascii, ebcdic, bcd or binary')
  }
  const unit = f.unit as string | undefined
  if (unit === 'digits' && !(enc === 'bcd' || type === 'n' || type === 'x+n' || type === 'z')) p('digit units need a numeric type')
  if (enc.startsWith('hex-') && unit === 'digits') p('hex text counts bytes or chars')
  if (f.composite !== undefined) {
    if (unit === 'digits') p('composite lengths count bytes')
    if (enc === 'bcd') p('a composite cannot be BCD')
    checkComposite(f.composite, `${path}`, problems)
  }
}

function checkSubfields(subs: unknown, path: string, problems: string[], where: 'positional' | 'other', numeric: boolean): void {
  if (!isObj(subs)) return void problems.push(`${path}: subfields must be an object`)
  const keys = Object.keys(subs)
  for (const k of keys) {
    if (numeric && !/^[1-9][0-9]*$/.test(k)) problems.push(`${path}.${k}: subfield keys must be numbers`)
    checkField(subs[k], `${path}.${k}`, problems, where)
  }
  if (where === 'positional') {
    const sorted = keys.sort((a, b) => Number(a) - Number(b))
    sorted.forEach((k, i) => {
      if (i < sorted.length - 1 && isObj(subs[k]) && (subs[k] as Obj).rest) problems.push(`${path}.${k}: only the last positional subfield may be rest`)
    })
  }
}

function checkComposite(c: unknown, path: string, problems: string[]): void {
  const p = (m: string): void => void problems.push(`${path}: ${m}`)
  if (!isObj(c)) return p('composite must be an object')
  switch (c.kind) {
    case 'positional':
      return checkSubfields(c.subfields, path, problems, 'positional', true)
    case 'bitmap':
      if (!isObj(c.bitmap) || !isInt(c.bitmap.bytes, 1, 16)) p('bitmap composite needs bitmap.bytes 1..16')
      checkSubfields(c.subfields, path, problems, 'other', true)
      if (isObj(c.bitmap) && isInt(c.bitmap.bytes, 1, 16) && isObj(c.subfields)) {
        for (const k of Object.keys(c.subfields)) if (Number(k) > (c.bitmap.bytes as number) * 8) p(`subfield ${k} is beyond the bitmap`)
      }
      return
    case 'tagged':
      if (!isObj(c.tag) || !isInt(c.tag.length, 1, 4) || (c.tag.encoding !== 'ascii' && c.tag.encoding !== 'ebcdic')) p('tagged composite needs tag { length 1..4, encoding ascii|ebcdic }')
      if (!isObj(c.len) || !isInt(c.len.digits, 1, 4) || (c.len.encoding !== 'ascii' && c.len.encoding !== 'ebcdic')) p('tagged composite needs len { digits 1..4, encoding ascii|ebcdic }')
      if (c.leading !== undefined) {
        checkSubfields(c.leading, path, problems, 'other', false)
      }
      if (c.subfields !== undefined) checkSubfields(c.subfields, path, problems, 'other', false)
      return
    default:
      return p('composite.kind must be positional, tagged or bitmap')
  }
}

/** Problems found in a spec document (empty when valid). */
export function specProblems(doc: unknown): string[] {
  const problems: string[] = []
  if (!isObj(doc)) return ['spec: must be an object']
  if (typeof doc.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(doc.name)) problems.push('name: lower-case letters, digits, . _ -')
  if (doc.codepage !== undefined && doc.codepage !== 'cp037' && doc.codepage !== 'cp1047') problems.push('codepage: must be cp037 or cp1047')
  if (!isObj(doc.mti) || !['ascii', 'ebcdic', 'bcd'].includes(doc.mti.encoding as string)) problems.push('mti: needs encoding ascii, ebcdic or bcd')
  else if (doc.mti.allowed !== undefined && !(Array.isArray(doc.mti.allowed) && doc.mti.allowed.every((m) => typeof m === 'string' && /^[0-9]{4}$/.test(m)))) {
    problems.push('mti.allowed: must be a list of four-digit MTIs')
  }
  if (!isObj(doc.bitmap) || !['binary', 'hex-ascii', 'hex-ebcdic'].includes(doc.bitmap.encoding as string)) problems.push('bitmap: needs encoding binary, hex-ascii or hex-ebcdic')
  else if (doc.bitmap.tertiary !== undefined && typeof doc.bitmap.tertiary !== 'boolean') problems.push('bitmap.tertiary: must be a boolean')
  const tertiary = isObj(doc.bitmap) && doc.bitmap.tertiary === true
  if (!isObj(doc.fields)) problems.push('fields: must be an object')
  else {
    for (const [k, f] of Object.entries(doc.fields)) {
      const n = Number(k)
      if (!/^[1-9][0-9]*$/.test(k) || n < 2 || n > (tertiary ? 192 : 128)) problems.push(`fields.${k}: field numbers are 2..${tertiary ? 192 : 128}`)
      else if (n === 65 && tertiary) problems.push('fields.65: bit 65 announces the tertiary bitmap in this spec')
      checkField(f, `fields.${k}`, problems, 'field')
    }
  }
  return problems
}

/** Throw INVALID_SPEC unless the document is a valid spec. */
export function validateSpec(doc: unknown): asserts doc is SpecDocument {
  const problems = specProblems(doc)
  if (problems.length > 0) {
    const first = problems[0]!
    throw new Iso8583SpecError('INVALID_SPEC', first.split(':')[0]!, -1, `${problems.length} problem(s); first: ${first}`)
  }
}

