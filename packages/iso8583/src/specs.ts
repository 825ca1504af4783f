/**
 * Spec registry: built-in dialects (JSON files in ../specs) and user spec documents, validated and
 * compiled once, then cached.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Iso8583SpecError } from './errors.js'
import { Iso8583Spec } from './message.js'
import { validateSpec } from './spec-validate.js'

/** Names of the built-in specs. */
export const BUILTIN_SPECS = ['iso87-ascii', 'iso87-binary', 'visa-base1', 'mastercard-cis'] as const
export type BuiltinSpecName = (typeof BUILTIN_SPECS)[number]

const cache = new Map<string, Iso8583Spec>()

/** Validate and compile a spec document (throws INVALID_SPEC with the path of the first problem). */
export function compileSpec(doc: unknown): Iso8583Spec {
  validateSpec(doc)
  return new Iso8583Spec(doc)
}

/** Read, validate and compile a spec document from a JSON file. */
export function loadSpecFile(path: string): Iso8583Spec {
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new Iso8583SpecError('INVALID_SPEC', '', -1, `cannot read spec file: ${(e as Error).message}`)
  }
  return compileSpec(doc)
}

/** A built-in spec by name (compiled on first use). */
export function getSpec(name: BuiltinSpecName | (string & {})): Iso8583Spec {
  const hit = cache.get(name)
  if (hit) return hit
  if (!(BUILTIN_SPECS as readonly string[]).includes(name)) throw new Iso8583SpecError('UNKNOWN_SPEC', '', -1, `no built-in spec named ${JSON.stringify(name)}`)
  const spec = loadSpecFile(fileURLToPath(new URL(`../specs/${name}.json`, import.meta.url)))
  cache.set(name, spec)
  return spec
}
