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
