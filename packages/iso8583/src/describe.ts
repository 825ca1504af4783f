/**
 * Human-readable, masked dump of a message. Masking is on by default: the PAN (DE 2) shows at most
 * the first 6 and last 4 digits; DE 35, 36, 45, 52, 55 and any subfield marked `mask` in the spec
 * (card security codes, cryptograms) show only their length.
 */
import { toHex } from './io.js'
import type { FieldCodec } from './field.js'
import type { Iso8583Spec } from './message.js'
import type { FieldValue, Message } from './message-types.js'
import { decodeTlv, type TlvNode } from './tlv.js'

/** Top-level fields masked whatever the spec says. */
export const ALWAYS_MASKED: Readonly<Record<string, 'pan' | 'full'>> = { '2': 'pan', '35': 'full', '36': 'full', '45': 'full', '52': 'full', '55': 'full' }

/** Options of `describe`. */
export interface DescribeOptions {
  /** Show sensitive values in clear. For local debugging with test cards only; never in logs. */
  unmasked?: boolean
  /** Show the TLV structure of TLV fields (tags and lengths; values masked unless unmasked). */
  tlv?: boolean
}

/** PAN masked to first 6 / last 4 at most (fewer for short values). */
export function maskPan(pan: string): string {
  if (pan.length >= 13) return pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4)
  if (pan.length >= 8) return '*'.repeat(pan.length - 4) + pan.slice(-4)
  return '*'.repeat(pan.length)
}

function size(v: FieldValue): number {
  return typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.length : Object.keys(v).length
}

function show(v: FieldValue, mask: 'pan' | 'full' | 'none' | undefined, unmasked: boolean): string {
  if (!unmasked && mask === 'full') return `[masked, ${size(v)} ${v instanceof Uint8Array ? 'bytes' : 'chars'}]`
  if (typeof v === 'string') return JSON.stringify(!unmasked && mask === 'pan' ? maskPan(v) : v)
  if (v instanceof Uint8Array) return `${toHex(v)} (${v.length} bytes)`
  return ''
}

function tlvLines(nodes: readonly TlvNode[], indent: string, unmasked: boolean, out: string[]): void {
  for (const n of nodes) {
    if (n.children) {
      out.push(`${indent}${n.tag} (template)`)
      tlvLines(n.children, indent + '  ', unmasked, out)
    } else out.push(`${indent}${n.tag} ${unmasked ? toHex(n.value!) : `[${n.value!.length} bytes]`}${n.opaque ? ' (opaque)' : ''}`)
  }
}

function walk(codec: FieldCodec | undefined, key: string, v: FieldValue, depth: number, topMask: 'pan' | 'full' | undefined, opts: DescribeOptions, out: string[]): void {
  const unmasked = opts.unmasked === true
  const name = codec?.def.name ?? (key === '_rest' ? 'undescribed bytes' : 'unknown')
  const label = `${'  '.repeat(depth)}${depth === 0 ? 'F' : ''}${key}`.padEnd(10) + ` ${name}`.padEnd(46, '.')
  const mask = topMask ?? codec?.def.mask
  if (typeof v === 'object' && !(v instanceof Uint8Array)) {
    if (!unmasked && (mask === 'full' || mask === 'pan')) {
      out.push(`${label}: [masked]`)
      return
    }
    out.push(`${label}:`)
    for (const k of Object.keys(v)) walk(codec?.children?.get(k), k, v[k]!, depth + 1, undefined, opts, out)
    return
  }
  out.push(`${label}: ${show(v, mask, unmasked)}`)
  if (opts.tlv && codec?.def.tlv && v instanceof Uint8Array) {
    try {
      tlvLines(decodeTlv(v.subarray(codec.def.tlv.offset ?? 0), codec.path), '    '.repeat(depth + 1), unmasked, out)
    } catch (e) {
      out.push(`    (not valid TLV: ${(e as Error & { code?: string }).code ?? 'error'})`)
    }
  }
}

/** A multi-line description of the message, masked by default. */
export function describe(spec: Iso8583Spec, msg: Message, opts: DescribeOptions = {}): string {
  const out = [`ISO 8583 message (spec ${spec.name})`, `MTI ${''.padEnd(51, '.')}: ${msg.mti}`]
  for (const k of Object.keys(msg.fields)) {
    const v = msg.fields[k]
    if (v === undefined) continue
    walk(spec.fields[Number(k)], k, v, 0, ALWAYS_MASKED[k], opts, out)
  }
  return out.join('\n')
}
