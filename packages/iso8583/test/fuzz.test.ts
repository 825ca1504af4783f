// Property/fuzz test run with every `pnpm test`: generated valid messages must round-trip exactly;
// generated and mutated frames (>= 100k per run) must either decode and round-trip, or fail with
// an Iso8583Error — never another exception, never a hang, never values larger than the frame.
import fc from 'fast-check'
import t from 'tap'
import { BUILTIN_SPECS, decodeTlv, encodeTlv, getSpec, Iso8583Error, type Iso8583Spec } from '../src/index.js'
import { checkFrame, messageArb, mutate, prng } from './arbitrary.js'
import { tiny } from './helpers.js'

const MUTATIONS = 14
const RUNS = Number(process.env.FUZZ_RUNS ?? 1150)

const extraSpecs: Iso8583Spec[] = [
  tiny(
    {
      '2': { type: 'n', encoding: 'ascii', length: 19, prefix: { encoding: 'ascii', digits: 2 } },
      '52': { type: 'b', encoding: 'hex-ascii', length: 8 },
      '55': { type: 'b', encoding: 'hex-ascii', length: 999, prefix: { encoding: 'ascii', digits: 3 }, unit: 'chars' },
      '70': { type: 'n', encoding: 'ascii', length: 3 },
      '130': { type: 'an', encoding: 'ascii', length: 1 },
      '150': { type: 'ans', encoding: 'ascii', length: 99999, prefix: { encoding: 'ascii', digits: 5 } },
    },
    { name: 'fuzz-tertiary', bitmap: { encoding: 'hex-ascii', tertiary: true } },
  ),
  tiny(
    {
      '3': { type: 'n', encoding: 'bcd', length: 6, unit: 'bytes', prefix: { encoding: 'bcd', digits: 1 } },
      '35': { type: 'z', encoding: 'bcd', length: 37, prefix: { encoding: 'bcd', digits: 2 }, bcd: { justify: 'left', pad: 'F' } },
      '48': {
        type: 'ans',
        encoding: 'ebcdic',
        length: 999,
        prefix: { encoding: 'binary', bytes: 2 },
        composite: { kind: 'tagged', tag: { length: 3, encoding: 'ebcdic' }, len: { digits: 3, encoding: 'ebcdic' }, subfields: { '001': { type: 'n', encoding: 'ebcdic', length: 4 } } },
      },
      '61': { type: 'b', encoding: 'binary', length: 99, prefix: { encoding: 'bcd', digits: 6 } },
      '90': { type: 'x+n', encoding: 'bcd', length: 9, signEncoding: 'ebcdic' },
    },
    { name: 'fuzz-mixed', mti: { encoding: 'ebcdic' }, bitmap: { encoding: 'hex-ebcdic' }, codepage: 'cp1047' },
  ),
]

t.test('generated messages round-trip exactly; mutated frames decode exactly or fail typed', async (t) => {
  const specs = [...BUILTIN_SPECS.map((n) => getSpec(n)), ...extraSpecs]
  let frames = 0
  let valid = 0
  let decodedMutants = 0
  const started = Date.now()
  for (const spec of specs) {
    fc.assert(
      fc.property(messageArb(spec), fc.integer(), (msg, seed) => {
        let bytes: Buffer
        try {
          bytes = spec.encode(msg)
        } catch (e) {
          // Generated combinations can exceed a composite's maximum; those are rejected typed.
          if (e instanceof Iso8583Error && (e.code === 'LENGTH_EXCEEDED' || e.code === 'INVALID_LENGTH')) return
          throw e
        }
        valid++
        frames++
        if (checkFrame(spec, bytes) !== 'decoded') throw new Error(`valid message rejected: ${bytes.toString('hex')}`)
        const rnd = prng(seed)
        for (let i = 0; i < MUTATIONS; i++) {
          frames++
          if (checkFrame(spec, mutate(bytes, rnd)) === 'decoded') decodedMutants++
        }
      }),
      { numRuns: RUNS },
    )
  }
  t.ok(frames >= 100_000 || RUNS < 1150, `${frames} frames checked (${valid} valid, ${decodedMutants} decodable mutants)`)
  t.ok(valid >= RUNS * specs.length * 0.8, 'most generated messages are encodable')
  t.ok(decodedMutants > 1000, 'mutation also produces decodable frames (the round-trip property is exercised on them)')
  t.ok(Date.now() - started < 120_000, 'finished without hanging')
})

t.test('TLV decoder: random and mutated TLV either round-trips or fails typed', async (t) => {
  let n = 0
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('9F26', '5A', '70', 'DF8129', 'FF01', '9F10', '82'), fc.uint8Array({ maxLength: 140 }))), fc.integer(), (items, seed) => {
      const bytes = encodeTlv(items.map(([tag, v]) => ({ tag, value: Buffer.from(v) })))
      const rnd = prng(seed)
      for (let i = 0; i < 10; i++) {
        const x = i === 0 ? bytes : mutate(bytes, rnd)
        n++
        try {
          const nodes = decodeTlv(x)
          if (!encodeTlv(nodes).equals(x)) throw new Error(`TLV round trip differs: ${x.toString('hex')}`)
        } catch (e) {
          if (!(e instanceof Iso8583Error)) throw e
        }
      }
    }),
    { numRuns: 1000 },
  )
  t.ok(n >= 10_000, `${n} TLV inputs checked`)
})

t.test('hostile lengths are rejected without allocation', async (t) => {
  const spec = extraSpecs[0]!
  // LLLLL prefix announcing 99999 characters in a 30-byte frame.
  const frame = Buffer.from('0100' + '8000000000000000' + '8000000000000000' + '0000400000000000' + '99999abc', 'latin1')
  const before = process.memoryUsage().arrayBuffers
  let rejected = 0
  for (let i = 0; i < 10000; i++) if (checkFrame(spec, frame) === 'rejected') rejected++
  t.equal(rejected, 10000)
  t.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024, 'no large buffers allocated')
})
