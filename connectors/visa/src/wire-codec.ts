import type { Composite, FieldValue, Iso8583Spec, Message } from '@cardplane/iso8583'
import { buildTlv } from './emv-tlv.js'
import type { VisaFields, VisaMessage } from './message.js'

function isComposite(v: FieldValue): v is Composite {
  return typeof v === 'object' && !(v instanceof Uint8Array)
}

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

/**
 * Codec message → connector message: composites are flattened one level ("62" → "62.2"), binary values
 * become Buffers; DE 55 decoded as a TLV composite is turned back into its TLV bytes so the mapping code
 * reads chip data one way whatever the spec does.
 */
export function flatten(msg: Message): VisaMessage {
  const fields: VisaFields = {}
  for (const [key, value] of Object.entries(msg.fields)) {
    if (typeof value === 'string') fields[key] = value
    else if (value instanceof Uint8Array) fields[key] = toBuffer(value)
    else if (key === '55') {
      const tags: Record<string, string> = {}
      for (const [tag, v] of Object.entries(value)) {
        if (v instanceof Uint8Array) tags[tag] = toBuffer(v).toString('hex').toUpperCase()
        else if (typeof v === 'string') tags[tag] = v
      }
      fields[key] = buildTlv(tags)
    } else {
      for (const [sub, v] of Object.entries(value)) {
        if (sub === '_rest') continue
        if (typeof v === 'string') fields[`${key}.${sub}`] = v
        else if (v instanceof Uint8Array) fields[`${key}.${sub}`] = toBuffer(v)
        else if (isComposite(v)) {
          for (const [sub2, v2] of Object.entries(v)) {
            if (typeof v2 === 'string') fields[`${key}.${sub}.${sub2}`] = v2
          }
        }
      }
    }
  }
  return { mti: msg.mti, fields }
}

/** Connector message → codec message (the inverse of `flatten`, composites rebuilt from flat keys). */
export function unflatten(msg: VisaMessage, spec: Iso8583Spec): Message {
  const fields: Record<string, FieldValue> = {}
  const keys = Object.keys(msg.fields).sort((a, b) => Number(a.split('.')[0]) - Number(b.split('.')[0]))
  for (const key of keys) {
    const value = msg.fields[key]!
    const dot = key.indexOf('.')
    if (dot < 0) {
      if (key === '55' && Buffer.isBuffer(value) && spec.field('55')?.children) {
        // The spec models DE 55 as TLV: hand it tag → bytes.
        const tags: Composite = {}
        let i = 0
        const hex = value
        while (i < hex.length) {
          const start = i
          if ((hex[i++]! & 0x1f) === 0x1f) while (hex[i++]! & 0x80);
          const tag = hex.subarray(start, i).toString('hex').toUpperCase()
          let len = hex[i++]!
          if (len & 0x80) {
            const n = len & 0x7f
            len = hex.readUIntBE(i, n)
            i += n
          }
          tags[tag] = hex.subarray(i, i + len)
          i += len
        }
        fields[key] = tags
      } else fields[key] = value
      continue
    }
    const parent = key.slice(0, dot)
    const sub = key.slice(dot + 1)
    const comp = (fields[parent] ??= {}) as Composite
    comp[sub] = value
  }
  return { mti: msg.mti, fields }
}
