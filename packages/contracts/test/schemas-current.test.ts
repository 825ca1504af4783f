import { readFileSync, readdirSync } from 'node:fs'
import t from 'tap'
import { renderSchemas } from '../src/index.js'

const dir = new URL('../schemas/', import.meta.url)

void t.test('committed schemas/*.json match the TypeBox definitions (run `pnpm schemas` after a change)', async (t) => {
  const rendered = renderSchemas()
  for (const [name, text] of Object.entries(rendered)) {
    const committed = readFileSync(new URL(`${name}.json`, dir), 'utf8')
    t.equal(committed, text, `schemas/${name}.json is current`)
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
  t.same(files, Object.keys(rendered).sort(), 'no stale schema files')
})
