/**
 * Hand-written reference codec for exactly the benchmark's Visa 0100 field set (no spec, no
 * validation beyond what the formats need). It is the "how fast can one fixed message go" baseline
 * measured in the same run as the compiled spec, so results stay comparable on a busy machine.
 */
import { CP037 } from '../src/charsets.js'
import type { Composite, FieldValue, Message } from '../src/index.js'

const HEX = '0123456789ABCDEF'
const PAIRS = Array.from({ length: 256 }, (_, b) => HEX[b >> 4]! + HEX[b & 15]!)
const EBC = Array.from({ length: 256 }, (_, b) => String.fromCharCode(CP037.toLatin1[b]!))
const TO_EBC = CP037.fromLatin1

function bcd(buf: Buffer, p: number, digits: number): string {
  const nb = (digits + 1) >> 1
  let s = digits & 1 ? HEX[buf[p]! & 15]! : PAIRS[buf[p]!]!
  for (let i = 1; i < nb; i++) s += PAIRS[buf[p + i]!]!
  return s
}
function ebc(buf: Buffer, p: number, n: number): string {
  if (n > 12) {
    const tmp = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) tmp[i] = CP037.toLatin1[buf[p + i]!]!
    return tmp.toString('latin1')
  }
  let s = ''
  for (let i = 0; i < n; i++) s += EBC[buf[p + i]!]!
  return s
}

/** Decode the benchmark message layout. */
export function handDecode(buf: Buffer): Message {
  const mti = PAIRS[buf[0]!]! + PAIRS[buf[1]!]!
  let p = 10
  const f: Record<string, FieldValue> = {}
  f[63] = ''
  for (let n = 2; n <= 64; n++) {
    if (!(buf[2 + ((n - 1) >> 3)]! & (0x80 >> ((n - 1) & 7)))) continue
    switch (n) {
      case 2:
      case 32:
      case 35: {
        const d = buf[p++]!
        f[n] = bcd(buf, p, d)
        p += (d + 1) >> 1
        break
      }
      case 3: case 11: case 12: f[n] = bcd(buf, p, 6); p += 3; break
      case 4: f[n] = bcd(buf, p, 12); p += 6; break
      case 7: f[n] = bcd(buf, p, 10); p += 5; break
      case 13: case 14: case 18: case 22: f[n] = bcd(buf, p, 4); p += 2; break
      case 19: case 23: case 49: f[n] = bcd(buf, p, 3); p += 2; break
      case 25: f[n] = bcd(buf, p, 2); p += 1; break
      case 37: f[n] = ebc(buf, p, 12); p += 12; break
      case 41: f[n] = ebc(buf, p, 8); p += 8; break
      case 42: f[n] = ebc(buf, p, 15); p += 15; break
      case 43: f[n] = ebc(buf, p, 40); p += 40; break
      case 55: {
        const l = buf[p++]!
        f[n] = buf.subarray(p, p + l)
        p += l
        break
      }
      case 62: {
        const l = buf[p++]!
        const o: Composite = {}
        let q = p + 8
        if (buf[p]! & 0x80) o[1] = ebc(buf, q++, 1)
        if (buf[p]! & 0x40) { o[2] = bcd(buf, q, 15); q += 8 }
        f[n] = o
        p += l
        break
      }
      case 63: {
        const l = buf[p++]!
        const o: Composite = {}
        let q = p + 3
        if (buf[p]! & 0x80) { o[1] = bcd(buf, q, 4); q += 2 }
        if (buf[p]! & 0x20) { o[3] = bcd(buf, q, 4); q += 2 }
        f[n] = o
        p += l
        break
      }
      default:
        throw new Error('field not in the benchmark layout')
    }
  }
  return { mti, fields: f }
}

const out = Buffer.allocUnsafe(2048)
function putBcd(s: string, p: number): number {
  let i = 0
  if (s.length & 1) out[p++] = s.charCodeAt(i++) - 48
  for (; i < s.length; i += 2) out[p++] = ((s.charCodeAt(i) - 48) << 4) | (s.charCodeAt(i + 1) - 48)
  return p
}
function putBcdHex(s: string, p: number): number {
  for (let i = 0; i < s.length; i += 2) out[p++] = (parseInt(s[i]!, 16) << 4) | parseInt(s[i + 1]!, 16)
  return p
}
function putEbc(s: string, p: number): number {
  for (let i = 0; i < s.length; i++) out[p++] = TO_EBC[s.charCodeAt(i)]!
  return p
}

/** Encode the benchmark message layout. */
export function handEncode(m: Message): Buffer {
  const f = m.fields
  let p = putBcd(m.mti, 0)
  const bm = p
  out.fill(0, bm, bm + 8)
  p += 8
  for (const k of Object.keys(f)) {
    const n = +k
    out[bm + ((n - 1) >> 3)]! |= 0x80 >> ((n - 1) & 7)
    const v = f[k]!
    switch (n) {
      case 2: case 32: out[p++] = (v as string).length; p = putBcd(v as string, p); break
      case 35: out[p++] = (v as string).length; p = putBcdHex(v as string, p); break
      case 37: case 41: case 42: case 43: p = putEbc(v as string, p); break
      case 55: out[p++] = (v as Uint8Array).length; out.set(v as Uint8Array, p); p += (v as Uint8Array).length; break
      case 62: {
        const o = v as Record<string, string>
        const at = p++
        const b = p
        out.fill(0, b, b + 8)
        p += 8
        if (o[1] !== undefined) { out[b]! |= 0x80; p = putEbc(o[1], p) }
        if (o[2] !== undefined) { out[b]! |= 0x40; p = putBcd(o[2], p) }
        out[at] = p - at - 1
        break
      }
      case 63: {
        const o = v as Record<string, string>
        const at = p++
        const b = p
        out.fill(0, b, b + 3)
        p += 3
        if (o[1] !== undefined) { out[b]! |= 0x80; p = putBcd(o[1], p) }
        if (o[3] !== undefined) { out[b]! |= 0x20; p = putBcd(o[3], p) }
        out[at] = p - at - 1
        break
      }
      default: p = putBcd(v as string, p)
    }
  }
  const r = Buffer.allocUnsafe(p)
  out.copy(r, 0, 0, p)
  return r
}
