// The generated codec (codegen.ts) is a fast path in front of the closure-based field codecs. These
// differential tests hold it to the closure path: for generated messages, for messages with wrong
// values or extra keys, and for valid and mutated frames, `encode`/`decode` must give exactly what
// `encodeReference`/`decodeReference` give — same bytes, same decoded values, same typed error
// (code, path, offset, message). They also check that the fast path really is the one taken for
// valid input, so that the comparison is not vacuous.
import fc from 'fast-check'
import t from 'tap'
import { BUILTIN_SPECS, getSpec, messageToJson, type Composite, type FieldSpec, type FieldValue, type Iso8583Spec, type Message } from '../src/index.js'
import { messageArb, mutate, prng } from './arbitrary.js'
import { tiny } from './helpers.js'

const RUNS = Number(process.env.FASTPATH_RUNS ?? 400)

/** Specs covering every field kind with a fast path (and some without), every prefix encoding and width. */
const extraSpecs: Iso8583Spec[] = [
  tiny(
    {
      '2': { type: 'n', encoding: 'bcd', length: 19, prefix: { encoding: 'bcd', digits: 2 } },
      '3': { type: 'n', encoding: 'bcd', length: 7, bcd: { justify: 'left', pad: 'F' } },
      '4': { type: 'n', encoding: 'bcd', length: 5, bcd: { pad: '3' } },
      '5': { type: 'z', encoding: 'bcd', length: 37, prefix: { encoding: 'binary', bytes: 2 }, bcd: { justify: 'left', pad: 'F' } },
      '6': { type: 'z', encoding: 'bcd', length: 9 },
      '7': { type: 'n', encoding: 'bcd', length: 4, unit: 'bytes' },
      '8': { type: 'n', encoding: 'bcd', length: 30, unit: 'bytes', prefix: { encoding: 'ascii', digits: 2 } },
      '9': { type: 'n', encoding: 'ebcdic', length: 8 },
      '10': { type: 'n', encoding: 'ascii', length: 12, prefix: { encoding: 'ebcdic', digits: 3 } },
      '11': { type: 'ans', encoding: 'ebcdic', length: 60 },
      '12': { type: 'ans', encoding: 'ascii', length: 99, prefix: { encoding: 'binary', bytes: 3 } },
      '13': { type: 'ans', encoding: 'ebcdic', length: 999, prefix: { encoding: 'bcd', digits: 3 } },
      '14': { type: 'an', encoding: 'ascii', length: 5, pad: { char: '*', side: 'left' } },
      '15': { type: 'b', encoding: 'binary', length: 8 },
      '16': { type: 'b', encoding: 'binary', length: 300, prefix: { encoding: 'binary', bytes: 4 } },
      '17': { type: 'b', encoding: 'hex-ascii', length: 16, unit: 'chars' },
      '18': { type: 'x+n', encoding: 'bcd', length: 8 },
      '19': { type: 'n', encoding: 'bcd', length: 45 },
      '20': { type: 'ans', encoding: 'ascii', length: 0 },
      '21': { type: 'n', encoding: 'bcd', length: 3, prefix: { encoding: 'bcd', digits: 1 }, bcd: { justify: 'left', pad: 'D' } },
      '48': {
        type: 'b',
        encoding: 'binary',
        length: 255,
        prefix: { encoding: 'binary', bytes: 1 },
        composite: {
          kind: 'bitmap',
          bitmap: { bytes: 2 },
          subfields: {
            '1': { type: 'an', encoding: 'ebcdic', length: 1 },
            '2': { type: 'n', encoding: 'bcd', length: 15 },
            '3': { type: 'ans', encoding: 'ebcdic', length: 20, prefix: { encoding: 'binary', bytes: 1 } },
            '5': { type: 'b', encoding: 'binary', length: 4 },
            '9': {
              type: 'b',
              encoding: 'binary',
              length: 40,
              prefix: { encoding: 'binary', bytes: 1 },
              composite: { kind: 'bitmap', bitmap: { bytes: 1 }, subfields: { '1': { type: 'n', encoding: 'bcd', length: 4 }, '3': { type: 'x+n', encoding: 'ascii', length: 6 } } },
            },
            '10': { type: 'b', encoding: 'binary', length: 30, composite: { kind: 'positional', subfields: { '1': { type: 'an', encoding: 'ascii', length: 2 }, '2': { type: 'ans', encoding: 'ascii', length: 28, rest: true } } } },
          },
        },
      },
      '62': { type: 'b', encoding: 'binary', length: 6, composite: { kind: 'bitmap', bitmap: { bytes: 1 }, subfields: { '1': { type: 'n', encoding: 'bcd', length: 4 }, '2': { type: 'n', encoding: 'bcd', length: 6 } } } },
      '70': { type: 'n', encoding: 'ascii', length: 3 },
      '130': { type: 'an', encoding: 'ascii', length: 1 },
    },
    { name: 'fastpath-mixed', bitmap: { encoding: 'binary', tertiary: true }, mti: { encoding: 'bcd' }, codepage: 'cp1047' },
  ),
  tiny(
    {
      '2': { type: 'n', encoding: 'ascii', length: 19, prefix: { encoding: 'ascii', digits: 2 } },
      '35': { type: 'z', encoding: 'ascii', length: 37, prefix: { encoding: 'ascii', digits: 2 } },
      '48': {
        type: 'ans',
        encoding: 'ebcdic',
        length: 999,
        prefix: { encoding: 'ebcdic', digits: 3 },
        composite: { kind: 'tagged', leading: { tcc: { type: 'an', encoding: 'ebcdic', length: 1 } }, tag: { length: 2, encoding: 'ebcdic' }, len: { digits: 2, encoding: 'ebcdic' }, subfields: { '42': { type: 'n', encoding: 'ebcdic', length: 7 } } },
      },
      '52': { type: 'b', encoding: 'hex-ebcdic', length: 8 },
      '90': { type: 'n', encoding: 'ebcdic', length: 42 },
    },
    { name: 'fastpath-ebcdic', mti: { encoding: 'ebcdic' }, bitmap: { encoding: 'hex-ebcdic' } },
  ),
]

type Outcome = { ok: string } | { error: string }

function outcome(fn: () => Buffer | Message): Outcome {
  try {
    const v = fn()
    return { ok: Buffer.isBuffer(v) ? v.toString('hex') : JSON.stringify(messageToJson(v as Message)) }
  } catch (e) {
    const x = e as Error & { code?: string; fieldPath?: string; offset?: number }
    return { error: `${x.name} ${x.code} ${x.fieldPath} ${x.offset} ${x.message}` }
  }
}

const specs = [...BUILTIN_SPECS.map((n) => getSpec(n)), ...extraSpecs]

/** Values the fast path must hand over (or reject identically): wrong types, lengths, characters. */
const ODD_VALUES: unknown[] = ['', '1', '12345', 'ABC', 'abc', '12a4', '١٢', 'é', '\u0100\u0101', 'D', '==', 'C12', '0'.repeat(40), 'F'.repeat(1001), '00ff', '00FF', 'zz', 12, null, true, {}, { '1': 'x' }, { _rest: 'AB' }, { '99': '1' }, Buffer.alloc(0), Buffer.from('0102', 'hex'), new Uint8Array(8), Buffer.alloc(300, 1)]

/** A message with one value replaced, a key added or a composite changed. */
function oddMessage(msg: Message, rnd: () => number): Message {
  const fields: Record<string, FieldValue> = { ...msg.fields }
  const keys = Object.keys(fields)
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!
  switch (Math.floor(rnd() * 4)) {
    case 0:
      if (keys.length) fields[pick(keys)] = pick(ODD_VALUES) as FieldValue
      break
    case 1:
      fields[pick(['1', '02', '65', '129', '200', 'x', '_rest', '-1', '2.0'])] = pick(['1', '00', Buffer.alloc(1)]) as FieldValue
      break
    case 2: {
      const k = keys.find((x) => typeof fields[x] === 'object' && !(fields[x] instanceof Uint8Array))
      if (k) {
        const c: Composite = { ...(fields[k] as Composite) }
        c[pick(['1', '2', '3', '4', '9', '10', '16', '99', '_rest', '01'])] = pick(ODD_VALUES) as FieldValue
        fields[k] = c
      }
      break
    }
    default:
      if (keys.length) fields[pick(keys)] = undefined as unknown as FieldValue
  }
  return { mti: rnd() < 0.05 ? '01x0' : msg.mti, fields }
}

t.test('fast path = closure path on generated, odd and mutated messages', async (t) => {
  for (const spec of specs) {
    let encodes = 0
    let fastEncodes = 0
    let frames = 0
    let fastDecodes = 0
    let odd = 0
    fc.assert(
      fc.property(messageArb(spec), fc.integer(), (msg, seed) => {
        const rnd = prng(seed)
        const enc = outcome(() => spec.encode(msg))
        const ref = outcome(() => spec.encodeReference(msg))
        if (JSON.stringify(enc) !== JSON.stringify(ref)) throw new Error(`${spec.name}: encode differs\n fast ${JSON.stringify(enc)}\n ref  ${JSON.stringify(ref)}`)
        for (let i = 0; i < 6; i++) {
          const m = oddMessage(msg, rnd)
          const a = outcome(() => spec.encode(m))
          const b = outcome(() => spec.encodeReference(m))
          if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${spec.name}: encode of an odd message differs\n fast ${JSON.stringify(a)}\n ref  ${JSON.stringify(b)}`)
          odd++
        }
        if (!('ok' in enc)) return
        encodes++
        if (spec.encodeFast(msg) !== null) fastEncodes++
        const bytes = Buffer.from(enc.ok, 'hex')
        if (spec.decodeFast(bytes) !== null) fastDecodes++
        for (let i = 0; i <= 8; i++) {
          const frame = i === 0 ? bytes : mutate(bytes, rnd)
          frames++
          const a = outcome(() => spec.decode(frame))
          const b = outcome(() => spec.decodeReference(frame))
          if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${spec.name}: decode differs on ${frame.toString('hex')}\n fast ${JSON.stringify(a)}\n ref  ${JSON.stringify(b)}`)
        }
      }),
      { numRuns: RUNS },
    )
    t.ok(encodes > RUNS * 0.5, `${spec.name}: ${encodes} valid messages, ${odd} odd messages, ${frames} frames compared`)
    // Valid generated messages hold only values the fast path accepts (exact lengths, bytes as
    // Uint8Array, no _rest), so it must have taken every one of them.
    t.equal(fastEncodes, encodes, `${spec.name}: fast path encoded every valid message`)
    t.equal(fastDecodes, encodes, `${spec.name}: fast path decoded every valid frame`)
  }
})

t.test('fast path hands over: padding, hex for bytes, _rest, extra keys, undefined values', async (t) => {
  const visa = getSpec('visa-base1')
  const spec = extraSpecs[0]!
  const cases: [Iso8583Spec, Message, boolean][] = [
    [visa, { mti: '0100', fields: { '3': '0', '11': '123456' } }, false], // short numeric: padded by the closure path
    [visa, { mti: '0100', fields: { '55': '9F2608AABBCCDDEEFF0011' } }, false], // bytes as hex
    [visa, { mti: '0100', fields: { '62': { '1': 'Y', _rest: { bits: '40', data: Buffer.from('AB', 'hex') } } } }, false],
    [visa, { mti: '0100', fields: { '2': '4761739001010010', '02': '1' } }, false],
    [visa, { mti: '0100', fields: { '2': '4761739001010010', '3': undefined as unknown as string } }, true],
    [visa, { mti: '0100', fields: { '2': '4761739001010010', x: undefined as unknown as string } }, true],
    [visa, { mti: '0100', fields: { '62': { '1': 'Y', '2': undefined as unknown as string } } }, true],
    [visa, { mti: '0100', fields: {} }, true],
    [spec, { mti: '0100', fields: { '14': 'AB' } }, false], // left padding with '*'
    [spec, { mti: '0100', fields: { '130': 'Z', '2': '123' } }, true], // tertiary bitmap
  ]
  for (const [s, msg, fast] of cases) {
    const a = outcome(() => s.encode(msg))
    t.same(a, outcome(() => s.encodeReference(msg)), `same result, fields ${Object.keys(msg.fields).join(',')}`)
    t.equal(s.encodeFast(msg) !== null, fast, fast ? 'taken by the fast path' : 'handed over')
  }
  // A frame with an undefined bitmap subfield keeps it as _rest: only the closure path does that.
  const frame = visa.encode({ mti: '0100', fields: { '62': { '1': 'Y', _rest: { bits: '40', data: Buffer.from('AB', 'hex') } } } })
  t.equal(visa.decodeFast(frame), null, 'undefined subfield bit: handed over')
  t.same(messageToJson(visa.decode(frame)), messageToJson(visa.decodeReference(frame)))
})

t.test('generated code: only integers from the spec become source text', async (t) => {
  // A spec whose strings would break out of any string literal must compile to the same codec.
  const evil = '"; throw new Error("injected"); //\'`${1}'
  const def: FieldSpec = { name: evil, description: evil, type: 'ans', encoding: 'ascii', length: 5 }
  const s = tiny({ '2': def, '3': { ...def, length: 3, composite: { kind: 'bitmap', bitmap: { bytes: 1 }, subfields: { '1': { ...def, length: 2 } } } } })
  const bytes = s.encode({ mti: '0100', fields: { '2': 'ABCDE', '3': { '1': 'XY' } } })
  t.same(s.decode(bytes).fields, { '2': 'ABCDE', '3': { '1': 'XY' } })
})

/** The longest value of a field the fast path writes (digits, letters or bytes), or undefined for kinds it hands over. */
function longest(def: FieldSpec): FieldValue | undefined {
  const p = def.prefix
  const cap = p ? (p.encoding === 'binary' ? 2 ** (8 * p.bytes!) - 1 : 10 ** p.digits! - 1) : def.length
  const max = Math.min(def.length, cap)
  if (def.composite) {
    if (def.composite.kind !== 'bitmap') return undefined
    // Subfields while their bytes fit in the composite (bitmap included).
    const c: Composite = {}
    let room = max - def.composite.bitmap.bytes
    for (const k of Object.keys(def.composite.subfields).sort((a, b) => Number(a) - Number(b))) {
      const sub = def.composite.subfields[k]!
      const v = longest(sub)
      if (v === undefined || sub.prefix) continue
      const bytes = sub.encoding === 'bcd' ? (sub.unit === 'bytes' ? sub.length : (sub.length + 1) >> 1) : sub.length
      if (bytes > room) continue
      room -= bytes
      c[k] = v
    }
    return c
  }
  if (def.rest || def.type === 'x+n' || def.encoding?.startsWith('hex') || def.pad) return undefined
  if (def.type === 'b') return Buffer.alloc(max, 0xa5)
  const n = def.encoding === 'bcd' && def.unit === 'bytes' ? 2 * max : max
  if (def.type === 'n') return '7'.repeat(n)
  if (def.type === 'z') return 'D'.padStart(n, '4')
  return 'Zq'.repeat(n).slice(0, n)
}

t.test('fast path: messages of every field at its longest, written across slab ends and buffer growth', async (t) => {
  for (const spec of [getSpec('visa-base1'), getSpec('iso87-binary'), extraSpecs[0]!]) {
    const fields: Record<string, FieldValue> = {}
    for (const [k, def] of Object.entries(spec.doc.fields)) {
      const v = longest(def)
      if (v !== undefined && k !== '1' && !(k === '65' && spec.doc.bitmap.tertiary)) fields[k] = v
    }
    const big: Message = { mti: '0100', fields }
    const small: Message = { mti: '0100', fields: { '3': spec.doc.fields['3']?.type === 'n' ? '000000' : 'x' } }
    let fast = 0
    // Large and small messages alternate so that each large one starts at a different slab offset.
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < i % 7; j++) spec.encode(small)
      const a = outcome(() => spec.encode(big))
      t.same(a, outcome(() => spec.encodeReference(big)))
      if (spec.encodeFast(big) !== null) fast++
    }
    t.equal(fast, 40, `${spec.name}: fast path took the ${Object.keys(fields).length}-field message`)
  }
})
