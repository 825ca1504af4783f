/**
 * JSON view of messages: binary values become upper-case hex strings. Encoding accepts hex for
 * binary fields, so `spec.encode(fromJson(text))` works on this output.
 */
import { toHex } from './io.js'
import { TAG_ORDER, type Composite, type FieldValue, type Message } from './message-types.js'

/** JSON-safe value: strings and nested objects only. */
export type JsonFieldValue = string | { [key: string]: JsonFieldValue }

function valueToJson(v: FieldValue): JsonFieldValue {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return toHex(v)
  const o: Record<string, JsonFieldValue> = {}
  for (const k of Object.keys(v)) o[k] = valueToJson(v[k]!)
  return o
}

/** Convert a decoded message to its JSON shape `{ mti, fields }`. */
export function messageToJson(msg: Message): { mti: string; fields: Record<string, JsonFieldValue> } {
  const fields: Record<string, JsonFieldValue> = {}
  for (const k of Object.keys(msg.fields)) fields[k] = valueToJson(msg.fields[k]!)
  return { mti: msg.mti, fields }
}

function valueFromJson(v: unknown, path: string): FieldValue {
  if (typeof v === 'string') return v
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o: Composite = {}
    for (const [k, x] of Object.entries(v)) o[k] = valueFromJson(x, `${path}.${k}`)
    return o
  }
  throw new TypeError(`field ${path}: values must be strings or objects`)
}

/** Parse the JSON shape back into a Message (binary fields stay hex; encode accepts hex). */
export function messageFromJson(json: unknown): Message {
  if (typeof json !== 'object' || json === null) throw new TypeError('message JSON must be an object')
  const { mti, fields } = json as { mti?: unknown; fields?: unknown }
  if (typeof mti !== 'string') throw new TypeError('message JSON needs "mti" as a string')
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new TypeError('message JSON needs "fields" as an object')
  const out: Record<string, FieldValue> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = valueFromJson(v, k)
  return { mti, fields: out }
}

/** Deep copy of a field value (keeps the tag order of tagged composites). */
export function cloneValue(v: FieldValue): FieldValue {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v)
  const o: Composite = {}
  for (const k of Object.keys(v)) o[k] = cloneValue(v[k]!)
  const order = v[TAG_ORDER]
  if (order) Object.defineProperty(o, TAG_ORDER, { value: [...order], enumerable: false })
  return o
}
