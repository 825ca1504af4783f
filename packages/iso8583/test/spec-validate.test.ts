import { readFileSync } from 'node:fs'
import t from 'tap'
import { BUILTIN_SPECS, getSpec, specProblems } from '../src/index.js'

const schema = JSON.parse(readFileSync(new URL('../spec.schema.json', import.meta.url), 'utf8')) as {
  properties: Record<string, unknown>
  $defs: { field: { properties: Record<string, unknown> } }
}

t.test('built-in specs are valid and compile', async (t) => {
  for (const name of BUILTIN_SPECS) {
    const spec = getSpec(name)
    t.same(specProblems(spec.doc), [], name)
    t.ok(spec.fields[2], `${name} defines DE 2`)
  }
})

t.test('the published JSON Schema declares every property the built-in specs use', async (t) => {
  const fieldProps = new Set(Object.keys(schema.$defs.field.properties))
  const walk = (f: Record<string, unknown>, path: string): void => {
    for (const k of Object.keys(f)) t.ok(fieldProps.has(k), `${path}.${k} is in the schema`)
    const c = f.composite as { subfields?: Record<string, Record<string, unknown>>; leading?: Record<string, Record<string, unknown>> } | undefined
    for (const [k, sub] of Object.entries({ ...(c?.leading ?? {}), ...(c?.subfields ?? {}) })) walk(sub, `${path}.${k}`)
  }
  for (const name of BUILTIN_SPECS) {
    const doc = getSpec(name).doc as unknown as Record<string, unknown>
    for (const k of Object.keys(doc)) t.ok(k in schema.properties, `${name}: ${k}`)
    for (const [k, f] of Object.entries(doc.fields as Record<string, Record<string, unknown>>)) walk(f, `${name}.${k}`)
  }
})

t.test('invalid specs are rejected with the path of the problem', async (t) => {
  const base = { name: 'x', mti: { encoding: 'ascii' }, bitmap: { encoding: 'binary' } }
  const problems = (fields: unknown, extra: object = {}): string[] => specProblems({ ...base, fields, ...extra })
  t.match(problems({ '2': { type: 'q', encoding: 'ascii', length: 2 } }), [/fields\.2: type/])
  t.match(problems({ '2': { type: 'an', encoding: 'bcd', length: 2 } }), [/bcd encoding is only for/])
  t.match(problems({ '2': { type: 'n', encoding: 'ascii', length: 100, prefix: { encoding: 'ascii', digits: 2 } } }), [/does not fit the prefix/])
  t.match(problems({ '2': { type: 'n', encoding: 'ascii', length: 300, prefix: { encoding: 'binary', bytes: 1 } } }), [/does not fit the prefix/])
  t.match(problems({ '2': { type: 'n', encoding: 'ascii', length: 2, prefix: { encoding: 'binary' } } }), [/bytes 1..4/])
  t.match(problems({ '1': { type: 'n', encoding: 'ascii', length: 2 } }), [/field numbers are 2..128/])
  t.match(problems({ '65': { type: 'b', encoding: 'binary', length: 8 } }, { bitmap: { encoding: 'binary', tertiary: true } }), [/bit 65/])
  t.match(problems({ '2': { type: 'n', encoding: 'ascii', length: 2, colour: 'red' } }), [/unknown property "colour"/])
  t.match(problems({ '48': { type: 'ans', encoding: 'ascii', length: 99, prefix: { encoding: 'ascii', digits: 2 }, composite: { kind: 'bitmap', bitmap: { bytes: 1 }, subfields: { '9': { type: 'n', encoding: 'ascii', length: 1 } } } } }), [
    /beyond the bitmap/,
  ])
  t.match(problems({ '48': { type: 'ans', encoding: 'ascii', length: 99, rest: true } }), [/rest is only allowed/])
  t.match(specProblems({ name: 'Bad Name', mti: {}, bitmap: {}, fields: [] }), [/name/, /mti/, /bitmap/, /fields/])
})
