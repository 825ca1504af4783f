/**
 * Long fuzz run (not part of `pnpm test`): the same properties as test/fuzz.test.ts for a given
 * duration. Usage: pnpm --filter @cardplane/iso8583 fuzz [-- --minutes 10 --seed 42]
 * Prints a failing frame (hex) and exits 1 on the first property violation.
 */
import fc from 'fast-check'
import { parseArgs } from 'node:util'
import { BUILTIN_SPECS, getSpec, Iso8583Error } from '../src/index.js'
import { checkFrame, messageArb, mutate, prng } from '../test/arbitrary.js'

// pnpm forwards a literal "--" before script arguments: drop it so the options are parsed.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { minutes: { type: 'string', default: process.env.FUZZ_MINUTES ?? '5' }, seed: { type: 'string' } },
  allowPositionals: true,
  strict: true,
})
const deadline = Date.now() + Number(values.minutes) * 60_000
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31
console.log(`fuzzing ${BUILTIN_SPECS.join(', ')} for ${values.minutes} min, seed ${seed}`)

let frames = 0
let decoded = 0
let round = 0
const specs = BUILTIN_SPECS.map((n) => getSpec(n))
while (Date.now() < deadline) {
  for (const spec of specs) {
    fc.assert(
      fc.property(messageArb(spec), fc.integer(), (msg, s) => {
        let bytes: Buffer
        try {
          bytes = spec.encode(msg)
        } catch (e) {
          if (e instanceof Iso8583Error) return
          throw e
        }
        frames++
        checkFrame(spec, bytes)
        const rnd = prng(s)
        let x = bytes
        for (let i = 0; i < 64; i++) {
          // Chains of mutations reach deeper than single edits.
          x = i % 8 === 0 ? mutate(bytes, rnd) : mutate(x, rnd)
          frames++
          if (checkFrame(spec, x) === 'decoded') decoded++
        }
      }),
      { numRuns: 500, seed: seed + round },
    )
  }
  round++
  console.log(`${new Date().toISOString()} round ${round}: ${frames} frames, ${decoded} decodable mutants, no violation`)
}
console.log(`done: ${frames} frames checked`)
