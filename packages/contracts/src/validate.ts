import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'

// RFC 3339 with a mandatory offset; TypeBox ships no formats, so the contract registers the one it uses.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)))
}

/** One reason a value does not match a contract schema. Paths only: values are never echoed back. */
export interface ContractIssue {
  /** JSON pointer of the offending field, e.g. `/amounts/transaction/minor`. */
  path: string
  message: string
}

/** Result of checking a value against a contract schema. */
export type ContractCheck<T> = { ok: true; value: T } | { ok: false; issues: ContractIssue[] }

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>()

function checkerFor<S extends TSchema>(schema: S): TypeCheck<S> {
  let check = compiled.get(schema)
  if (!check) {
    check = TypeCompiler.Compile(schema)
    compiled.set(schema, check)
  }
  return check as TypeCheck<S>
}

/**
 * Check `value` against a contract schema (compiled once per schema). Does not coerce or strip: a message
 * either is the contract or is refused with the list of offending paths (at most `maxIssues`).
 */
export function checkContract<S extends TSchema>(schema: S, value: unknown, maxIssues = 10): ContractCheck<Static<S>> {
  const check = checkerFor(schema)
  if (check.Check(value)) return { ok: true, value }
  const issues: ContractIssue[] = []
  for (const err of check.Errors(value)) {
    issues.push({ path: err.path || '/', message: err.message })
    if (issues.length >= maxIssues) break
  }
  return { ok: false, issues }
}
