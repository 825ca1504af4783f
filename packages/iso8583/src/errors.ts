/**
 * Stable error codes of the ISO 8583 codec. Each failure mode has its own code so that callers
 * (connectors, the proxy, monitoring) can react without parsing messages.
 */
export type Iso8583ErrorCode =
  // message level
  | 'INVALID_MTI' // MTI bytes are not four digits
  | 'UNKNOWN_MTI' // MTI is numeric but not listed by the spec
  | 'INVALID_BITMAP' // bitmap bytes are not valid (e.g. bad hex characters)
  | 'NON_CANONICAL_BITMAP' // a secondary/tertiary bitmap is present but empty
  | 'UNDEFINED_FIELD' // bitmap bit (or message key) for a field the spec does not define
  | 'TRAILING_BYTES' // bytes left after the last field
  // field level
  | 'TRUNCATED' // the frame ends inside a field, prefix or bitmap
  | 'LENGTH_EXCEEDED' // a length is above the spec maximum
  | 'INVALID_LENGTH' // a fixed field or binary value has the wrong length on encode
  | 'NON_NUMERIC_LENGTH' // a length prefix contains non-digit characters or nibbles
  | 'INVALID_BCD_NIBBLE' // a BCD nibble above 9 in a numeric field or prefix
  | 'INVALID_BCD_PAD' // the pad nibble of an odd-length BCD value is not the spec's pad
  | 'INVALID_CHARACTER' // a character not allowed by the field type or not encodable
  | 'INVALID_HEX' // hex text that is not upper-case hexadecimal
  | 'INVALID_VALUE' // a value of the wrong JS type for the field (encode)
  | 'DUPLICATE_SUBFIELD' // a tag occurs twice in a tagged composite
  | 'MISSING_SUBFIELD' // a gap in positional subfields (encode)
  // TLV
  | 'TLV_TRUNCATED'
  | 'TLV_LENGTH_OVERFLOW' // a TLV length runs past its container or uses more than 4 length bytes
  | 'TLV_INVALID_TAG'
  // framing and headers
  | 'FRAME_TOO_LARGE'
  | 'INVALID_FRAME'
  | 'INVALID_HEADER'
  // specs
  | 'INVALID_SPEC'
  | 'UNKNOWN_SPEC'

/**
 * The one error class of the codec. `fieldPath` says where ('mti', 'bitmap', '2', '62.2', '48.42',
 * '55.9F26'), `offset` is the byte offset in the decoded buffer (-1 when encoding or not applicable).
 * The message never contains a field value: it may be a PAN, track data or a cryptogram.
 */
export class Iso8583Error extends Error {
  readonly code: Iso8583ErrorCode
  readonly fieldPath: string
  readonly offset: number

  constructor(code: Iso8583ErrorCode, fieldPath: string, offset: number, detail: string) {
    super(`${code} at ${fieldPath || '<message>'}${offset >= 0 ? ` (offset ${offset})` : ''}: ${detail}`)
    this.name = 'Iso8583Error'
    this.code = code
    this.fieldPath = fieldPath
    this.offset = offset
  }
}

/** Raised while decoding bytes. */
export class Iso8583DecodeError extends Iso8583Error {
  override readonly name = 'Iso8583DecodeError'
}

/** Raised while encoding a message object. */
export class Iso8583EncodeError extends Iso8583Error {
  override readonly name = 'Iso8583EncodeError'
}

/** Raised when a spec document is invalid or unknown. */
export class Iso8583SpecError extends Iso8583Error {
  override readonly name = 'Iso8583SpecError'
}

/** Raised by framing helpers and the Visa header codec. */
export class Iso8583FrameError extends Iso8583Error {
  override readonly name = 'Iso8583FrameError'
}

export function decodeError(code: Iso8583ErrorCode, path: string, offset: number, detail: string): never {
  throw new Iso8583DecodeError(code, path, offset, detail)
}

export function encodeError(code: Iso8583ErrorCode, path: string, detail: string): never {
  throw new Iso8583EncodeError(code, path, -1, detail)
}
