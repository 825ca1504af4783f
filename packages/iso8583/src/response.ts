/**
 * Building responses from requests: "copy these fields, set the MTI and DE 39".
 */
import { cloneValue } from './json.js'
import type { FieldValue, Message } from './message-types.js'

/** Response MTI for a request MTI: 0100→0110, 0120→0130, 0400→0410, 0800→0810 (repeats 0121→0130). */
export function responseMti(mti: string): string {
  if (!/^[0-9]{4}$/.test(mti)) throw new RangeError('MTI must be four digits')
  const fn = Number(mti[2])
  if (fn % 2 === 1) throw new RangeError('MTI is already a response')
  return mti.slice(0, 2) + String(fn + 1) + '0'
}

/** Options of `respond`. */
export interface RespondOptions {
  /** Request fields echoed into the response (deep-copied); absent ones are skipped. */
  copy: readonly (string | number)[]
  /** Fields to set (after copying), e.g. { '39': '00', '38': 'A1B2C3' }; undefined removes one. */
  set?: Record<string, FieldValue | undefined>
  /** Defaults to responseMti(request.mti). */
  mti?: string
}

/** A response message built from a request. */
export function respond(request: Message, opts: RespondOptions): Message {
  const fields: Record<string, FieldValue> = {}
  for (const k of opts.copy) {
    const v = request.fields[String(k)]
    if (v !== undefined) fields[String(k)] = cloneValue(v)
  }
  for (const [k, v] of Object.entries(opts.set ?? {})) {
    if (v === undefined) delete fields[k]
    else fields[k] = v
  }
  return { mti: opts.mti ?? responseMti(request.mti), fields }
}

/** Value at a field path ("39", "62.2", "48.92"), or undefined. */
export function getPath(msg: Message, path: string): FieldValue | undefined {
  const parts = path.split('.')
  let v: FieldValue | undefined = msg.fields[parts[0]!]
  for (let i = 1; i < parts.length && v !== undefined; i++) {
    if (typeof v === 'string' || v instanceof Uint8Array) return undefined
    v = v[parts[i]!]
  }
  return v
}

/** Set (or with undefined, remove) the value at a field path, creating composite objects on the way. */
export function setPath(msg: Message, path: string, value: FieldValue | undefined): void {
  const parts = path.split('.')
  let obj: Record<string, FieldValue> = msg.fields
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!
    let next = obj[k]
    if (next === undefined) obj[k] = next = {}
    if (typeof next === 'string' || next instanceof Uint8Array) throw new TypeError(`field ${parts.slice(0, i + 1).join('.')} is not a composite`)
    obj = next
  }
  const last = parts[parts.length - 1]!
  if (value === undefined) delete obj[last]
  else obj[last] = value
}
