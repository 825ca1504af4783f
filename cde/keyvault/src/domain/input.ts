import { InvalidRequestError } from './errors.js'

/**
 * Request-body field readers. Each names the field and the rule it broke, never the value: request
 * fields here are PANs, PIN blocks, CVVs and key components.
 */
export type Body = Record<string, unknown>

export function str(body: Body, field: string): string {
  const v = body[field]
  if (typeof v !== 'string' || v.length === 0) throw new InvalidRequestError('missing_field', `${field} is required and must be a string`, { field })
  return v
}

export function optStr(body: Body, field: string): string | undefined {
  const v = body[field]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new InvalidRequestError('invalid_field', `${field} must be a string`, { field })
  return v
}

export function optInt(body: Body, field: string, min: number, max: number): number | undefined {
  const v = body[field]
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidRequestError('invalid_field', `${field} must be an integer in ${min}..${max}`, { field })
  }
  return n
}

export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'boolean') return v
  if (v === 'true') return true
  if (v === 'false') return false
  throw new InvalidRequestError('invalid_field', `${field} must be a boolean`, { field })
}

/** Uppercase hex of an exact set of byte lengths (or any even length when `bytes` is omitted). */
export function hex(body: Body, field: string, bytes?: number[]): string {
  const v = str(body, field)
  if (!/^[0-9a-fA-F]+$/.test(v) || v.length % 2 !== 0) {
    throw new InvalidRequestError('invalid_hex', `${field} must be an even number of hexadecimal digits`, { field })
  }
  if (bytes && !bytes.includes(v.length / 2)) {
    throw new InvalidRequestError('invalid_length', `${field} must be ${bytes.join(' or ')} bytes`, { field })
  }
  return v.toUpperCase()
}

export function optHex(body: Body, field: string, bytes?: number[]): string | undefined {
  return body[field] === undefined || body[field] === '' ? undefined : hex(body, field, bytes)
}

/** A string of decimal digits with a length in [min, max]. */
export function digits(body: Body, field: string, min: number, max: number): string {
  const v = str(body, field)
  if (!/^\d+$/.test(v)) throw new InvalidRequestError('invalid_digits', `${field} must contain only decimal digits`, { field })
  if (v.length < min || v.length > max) {
    throw new InvalidRequestError('invalid_length', min === max ? `${field} must be ${min} digits` : `${field} must be ${min}..${max} digits`, { field })
  }
  return v
}

export function oneOf<T extends string>(body: Body, field: string, allowed: readonly T[], dflt?: T): T {
  const v = body[field]
  if ((v === undefined || v === '') && dflt !== undefined) return dflt
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new InvalidRequestError('invalid_field', `${field} must be one of ${allowed.join(', ')}`, { field })
  }
  return v as T
}

/** Base64 (standard alphabet) to bytes, strictly. */
export function base64(body: Body, field: string): Buffer {
  const v = str(body, field)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    throw new InvalidRequestError('invalid_base64', `${field} must be base64`, { field })
  }
  return Buffer.from(v, 'base64')
}

/** A key or policy name: what may appear as one path segment. */
export function name(value: string | undefined, what = 'name'): string {
  if (!value || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(value)) {
    throw new InvalidRequestError('invalid_name', `${what} must be 1..128 of [A-Za-z0-9_.-]`)
  }
  return value
}
