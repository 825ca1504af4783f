/**
 * Visa BASE I message header (22 bytes, 26 for reject headers), after the VMLH:
 *
 * H1 header length (1, 0x16 = 22) · H2 header format (1, binary, 0x01) · H3 text format (1, 0x02)
 * · H4 total message length (2, binary, header + message) · H5 destination station id (3, BCD 6 digits)
 * · H6 source station id (3, BCD) · H7 round-trip control (1) · H8 BASE I flags (2) · H9 message
 * status flags (3) · H10 batch number (1) · H11 reserved (3) · H12 user information (1).
 * A reject header (H1 = 26) adds H13 bitmap (2) and H14 reject data group (2: reject code, BCD),
 * and is followed by the original header and message.
 * Layout as published in jPOS (BASE1Header) and commonly cited; check against the BASE I spec.
 */
import { Iso8583FrameError } from './errors.js'

/** Decoded BASE I header fields. */
export interface VisaHeader {
  /** H1: 22, or 26 for a reject header. */
  headerLength: number
  /** H2 */
  headerFormat: number
  /** H3 */
  textFormat: number
  /** H4: header + message length in bytes. */
  totalLength: number
  /** H5: six digits. */
  destinationId: string
  /** H6: six digits. */
  sourceId: string
  /** H7 */
  roundTripControl: number
  /** H8 (16 bits) */
  base1Flags: number
  /** H9 (24 bits) */
  messageStatusFlags: number
  /** H10 */
  batchNumber: number
  /** H11: three bytes, kept as is. */
  reserved: Buffer
  /** H12 */
  userInfo: number
  /** H13/H14, present on reject headers. */
  reject?: { bitmap: number; code: string }
}

export const VISA_HEADER_LENGTH = 22
export const VISA_REJECT_HEADER_LENGTH = 26

function headerError(offset: number, detail: string): never {
  throw new Iso8583FrameError('INVALID_HEADER', 'header', offset, detail)
}

function bcd6(buf: Uint8Array, p: number, what: string): string {
  let s = ''
  for (let i = 0; i < 3; i++) {
    const b = buf[p + i]!
    if (b >> 4 > 9 || (b & 15) > 9) headerError(p + i, `${what} is not BCD`)
    s += String(b >> 4) + String(b & 15)
  }
  return s
}

function putBcd6(out: Buffer, p: number, s: string, what: string): void {
  if (!/^[0-9]{6}$/.test(s)) throw new Iso8583FrameError('INVALID_HEADER', what, -1, `${what} must be six digits`)
  for (let i = 0; i < 3; i++) out[p + i] = ((s.charCodeAt(2 * i) - 48) << 4) | (s.charCodeAt(2 * i + 1) - 48)
}

/** Decode the header at buf[offset]; `length` is the number of header bytes (22 or 26). */
export function decodeVisaHeader(buf: Uint8Array, offset = 0): { header: VisaHeader; length: number } {
  if (buf.length - offset < VISA_HEADER_LENGTH) headerError(offset, 'shorter than a BASE I header')
  const hl = buf[offset]!
  if (hl !== VISA_HEADER_LENGTH && hl !== VISA_REJECT_HEADER_LENGTH) headerError(offset, 'unsupported header length')
  if (buf.length - offset < hl) headerError(offset, 'frame shorter than its header length')
  const b = (i: number): number => buf[offset + i]!
  const header: VisaHeader = {
    headerLength: hl,
    headerFormat: b(1),
    textFormat: b(2),
    totalLength: (b(3) << 8) | b(4),
    destinationId: bcd6(buf, offset + 5, 'destination id'),
    sourceId: bcd6(buf, offset + 8, 'source id'),
    roundTripControl: b(11),
    base1Flags: (b(12) << 8) | b(13),
    messageStatusFlags: (b(14) << 16) | (b(15) << 8) | b(16),
    batchNumber: b(17),
    reserved: Buffer.from(buf.subarray(offset + 18, offset + 21)),
    userInfo: b(21),
  }
  if (hl === VISA_REJECT_HEADER_LENGTH) {
    const bits = (b(22) << 8) | b(23)
    let code = ''
    for (let i = 24; i < 26; i++) {
      if (b(i) >> 4 > 9 || (b(i) & 15) > 9) headerError(offset + i, 'reject code is not BCD')
      code += String(b(i) >> 4) + String(b(i) & 15)
    }
    header.reject = { bitmap: bits, code }
  }
  return { header, length: hl }
}

/** A header with defaults: format 1, text format 2, zero flags. */
export function newVisaHeader(destinationId: string, sourceId: string): VisaHeader {
  return {
    headerLength: VISA_HEADER_LENGTH,
    headerFormat: 1,
    textFormat: 2,
    totalLength: 0,
    destinationId,
    sourceId,
    roundTripControl: 0,
    base1Flags: 0,
    messageStatusFlags: 0,
    batchNumber: 0,
    reserved: Buffer.alloc(3),
    userInfo: 0,
  }
}

/**
 * Encode a header for a message body of `bodyLength` bytes; H4 is computed (header + body), H1
 * follows whether a reject group is present.
 */
export function encodeVisaHeader(h: VisaHeader, bodyLength: number): Buffer {
  const hl = h.reject ? VISA_REJECT_HEADER_LENGTH : VISA_HEADER_LENGTH
  const total = hl + bodyLength
  if (total > 0xffff) throw new Iso8583FrameError('INVALID_HEADER', 'H4', -1, 'message too long for H4')
  const out = Buffer.alloc(hl)
  out[0] = hl
  out[1] = h.headerFormat & 0xff
  out[2] = h.textFormat & 0xff
  out.writeUInt16BE(total, 3)
  putBcd6(out, 5, h.destinationId, 'H5')
  putBcd6(out, 8, h.sourceId, 'H6')
  out[11] = h.roundTripControl & 0xff
  out.writeUInt16BE(h.base1Flags & 0xffff, 12)
  out[14] = (h.messageStatusFlags >> 16) & 0xff
  out[15] = (h.messageStatusFlags >> 8) & 0xff
  out[16] = h.messageStatusFlags & 0xff
  out[17] = h.batchNumber & 0xff
  out.set(h.reserved.subarray(0, 3), 18)
  out[21] = h.userInfo & 0xff
  if (h.reject) {
    out.writeUInt16BE(h.reject.bitmap & 0xffff, 22)
    if (!/^[0-9]{4}$/.test(h.reject.code)) throw new Iso8583FrameError('INVALID_HEADER', 'H14', -1, 'reject code must be four digits')
    out[24] = ((h.reject.code.charCodeAt(0) - 48) << 4) | (h.reject.code.charCodeAt(1) - 48)
    out[25] = ((h.reject.code.charCodeAt(2) - 48) << 4) | (h.reject.code.charCodeAt(3) - 48)
  }
  return out
}

/** Header for the response to a request: source and destination swapped, no reject group. */
export function visaResponseHeader(request: VisaHeader): VisaHeader {
  const { reject: _reject, ...rest } = request
  return { ...rest, headerLength: VISA_HEADER_LENGTH, destinationId: request.sourceId, sourceId: request.destinationId, reserved: Buffer.from(request.reserved) }
}

/**
 * Split a VMLH payload (header + message) into header and ISO message. For a reject, `original`
 * is the header of the rejected message, which follows the reject header.
 */
export function splitVisaMessage(payload: Buffer): { header: VisaHeader; original?: VisaHeader; body: Buffer } {
  const { header, length } = decodeVisaHeader(payload)
  if (header.totalLength !== payload.length) headerError(3, 'H4 does not match the frame length')
  if (!header.reject) return { header, body: payload.subarray(length) }
  const orig = decodeVisaHeader(payload, length)
  return { header, original: orig.header, body: payload.subarray(length + orig.length) }
}

/** Convenience namespace: VisaHeader.decode / encode / response / split. */
export const VisaHeader = {
  decode: decodeVisaHeader,
  encode: encodeVisaHeader,
  create: newVisaHeader,
  response: visaResponseHeader,
  split: splitVisaMessage,
}
