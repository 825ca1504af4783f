import { ALL_SCHEMAS } from './registry.js'

/** Base URI for the exported schemas' `$id`. */
export const SCHEMA_BASE_URI = 'https://schemas.cardplane.dev/contracts/v1/'

/**
 * Render every top-level schema as JSON Schema (draft 2020-12) text. TypeBox schemas are plain JSON
 * Schema objects; JSON.stringify drops TypeBox's symbol-keyed metadata.
 */
export function renderSchemas(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, schema] of Object.entries(ALL_SCHEMAS)) {
    const doc = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `${SCHEMA_BASE_URI}${name}.json`, ...schema }
    out[name] = `${JSON.stringify(doc, null, 2)}\n`
  }
  return out
}
