// Writes the contract's JSON Schemas to schemas/*.json. Run: pnpm --filter @cardplane/contracts schemas
// A test fails when the committed files differ from what this script would write.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderSchemas } from '../src/render-schemas.js'

const outDir = fileURLToPath(new URL('../schemas/', import.meta.url))
mkdirSync(outDir, { recursive: true })
for (const [name, text] of Object.entries(renderSchemas())) {
  writeFileSync(new URL(`${name}.json`, `file://${outDir}`), text)
  process.stdout.write(`wrote schemas/${name}.json\n`)
}
