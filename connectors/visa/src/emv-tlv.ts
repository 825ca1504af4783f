/**
 * Minimal BER-TLV reader/writer for chip data (DE 55): one level, multi-byte tags (low five bits all set
 * means more tag bytes follow), short and long length forms. Errors never echo values.
 */
export class TlvError extends Error {
  readonly code = 'emv_tlv_invalid'
  constructor(message: string) {
    super(message)
    this.name = 'TlvError'
  }
}

/** Parse a flat TLV list into tag (upper-case hex) → value (upper-case hex). */
export function parseTlv(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < buf.length) {
    // 0x00 / 0xFF padding between objects is allowed by EMV.
    if (buf[i] === 0x00 || buf[i] === 0xff) {
      i++
      continue
    }
    const tagStart = i
    if ((buf[i++]! & 0x1f) === 0x1f) {
      while (i < buf.length && (buf[i]! & 0x80) !== 0) i++
      i++
    }
    if (i > buf.length) throw new TlvError(`tag truncated at byte ${tagStart}`)
    const tag = buf.subarray(tagStart, i).toString('hex').toUpperCase()
    if (i >= buf.length) throw new TlvError(`length missing at byte ${i}`)
    let len = buf[i++]!
    if (len & 0x80) {
      const n = len & 0x7f
      if (n === 0 || n > 3 || i + n > buf.length) throw new TlvError(`bad length at byte ${i - 1}`)
      len = buf.readUIntBE(i, n)
      i += n
    }
    if (i + len > buf.length) throw new TlvError(`value of tag ${tag} truncated at byte ${i}`)
    out[tag] = buf.subarray(i, i + len).toString('hex').toUpperCase()
    i += len
  }
  return out
}

/** Encode tag → hex value pairs as a flat TLV list (in insertion order). */
export function buildTlv(entries: Record<string, string>): Buffer {
  const parts: Buffer[] = []
  for (const [tag, hex] of Object.entries(entries)) {
    const value = Buffer.from(hex, 'hex')
    const t = Buffer.from(tag, 'hex')
    let l: Buffer
    if (value.length < 0x80) l = Buffer.from([value.length])
    else if (value.length < 0x100) l = Buffer.from([0x81, value.length])
    else l = Buffer.from([0x82, value.length >> 8, value.length & 0xff])
    parts.push(t, l, value)
  }
  return Buffer.concat(parts)
}
