import type { Composite, FieldValue, Message } from '@cardplane/iso8583'
import type { VisaFields, VisaMessage } from './message.js'

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

/**
 * Codec message → connector message: bitmap composites (62, 63, 126) are flattened one level
 * ("62" → "62.2"), binary values become Buffers.
 */
export function flatten(msg: Message): VisaMessage {
  const fields: VisaFields = {}
  for (const [key, value] of Object.entries(msg.fields)) {
    if (typeof value === 'string') fields[key] = value
    else if (value instanceof Uint8Array) fields[key] = toBuffer(value)
    else {
      for (const [sub, v] of Object.entries(value)) {
        if (sub === '_rest') continue
        if (typeof v === 'string') fields[`${key}.${sub}`] = v
        else if (v instanceof Uint8Array) fields[`${key}.${sub}`] = toBuffer(v)
      }
    }
  }
  return { mti: msg.mti, fields }
}

/** Connector message → codec message (the inverse of `flatten`, composites rebuilt from flat keys). */
export function unflatten(msg: VisaMessage): Message {
  const fields: Record<string, FieldValue> = {}
  for (const [key, value] of Object.entries(msg.fields)) {
    const dot = key.indexOf('.')
    if (dot < 0) {
      fields[key] = value
      continue
    }
    const parent = key.slice(0, dot)
    const comp = (fields[parent] ??= {}) as Composite
    comp[key.slice(dot + 1)] = value
  }
  return { mti: msg.mti, fields }
}
