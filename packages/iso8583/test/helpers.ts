import { compileSpec, getSpec, type FieldSpec, type Iso8583Spec, type SpecDocument } from '../src/index.js'

/** A spec derived from a built-in one with some fields replaced (specs are data). */
export function derive(base: string, name: string, fields: Record<string, FieldSpec>, extra: Partial<SpecDocument> = {}): Iso8583Spec {
  const doc = structuredClone(getSpec(base).doc)
  doc.name = name
  Object.assign(doc.fields, fields)
  return compileSpec({ ...doc, ...extra })
}

/** A minimal spec with only the given fields. */
export function tiny(fields: Record<string, FieldSpec>, over: Partial<SpecDocument> = {}): Iso8583Spec {
  return compileSpec({ name: 'tiny', mti: { encoding: 'ascii' }, bitmap: { encoding: 'hex-ascii' }, fields, ...over })
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
export const ascii = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Run fn, return the thrown error (fails the caller's expectation if nothing is thrown). */
export function thrown(fn: () => unknown): (Error & { code?: string; fieldPath?: string; offset?: number }) | undefined {
  try {
    fn()
  } catch (e) {
    return e as Error & { code?: string }
  }
  return undefined
}
