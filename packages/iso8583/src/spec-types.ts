/**
 * The shape of a spec document (JSON). The JSON Schema in `spec.schema.json` describes the same
 * shape; `validateSpec` enforces it (plus cross-field rules) before a spec is compiled.
 */

/** ISO 8583 data types. `x+n` is a C/D sign followed by digits (amount fees, DE 28–31). */
export type FieldType = 'n' | 'a' | 'an' | 'ans' | 'ns' | 'anp' | 'z' | 'b' | 'x+n'

/**
 * How a field's content is put on the wire.
 * `ascii` is Latin-1 byte for character; `ebcdic` uses the spec (or field) code page;
 * `bcd` packs two digits per byte; `binary` is raw bytes; `hex-ascii`/`hex-ebcdic` carry binary
 * data as upper-case hexadecimal text.
 */
export type Encoding = 'ascii' | 'ebcdic' | 'bcd' | 'binary' | 'hex-ascii' | 'hex-ebcdic'

/** EBCDIC code pages. */
export type Codepage = 'cp037' | 'cp1047'

/** Length prefix of a variable field: `digits` (L..LLLLLL) for text/BCD prefixes, `bytes` for binary. */
export interface PrefixSpec {
  encoding: 'ascii' | 'ebcdic' | 'bcd' | 'binary'
  /** Number of length digits (1–6), for ascii, ebcdic and bcd prefixes. */
  digits?: number
  /** Number of bytes (1–4), for binary prefixes (big-endian). */
  bytes?: number
}

/** BCD layout of odd-length values. */
export interface BcdSpec {
  /** right (default): pad nibble first, value right-aligned; left: value first, pad nibble last. */
  justify?: 'right' | 'left'
  /** Pad nibble as one hex digit, default "0". */
  pad?: string
}

/** Padding applied on encode when a fixed-length value is shorter than the field. */
export interface PadSpec {
  char: string
  side: 'left' | 'right'
}

/** BER-TLV content (DE 55). `offset` skips scheme header bytes before the TLV list. */
export interface TlvSpec {
  offset?: number
}

/** A composite (structured) field. */
export type CompositeSpec =
  | { kind: 'positional'; subfields: Record<string, FieldSpec> }
  | {
      kind: 'tagged'
      /** Fixed subfields before the first tag (e.g. Mastercard DE 48 transaction category code). */
      leading?: Record<string, FieldSpec>
      tag: { length: number; encoding: 'ascii' | 'ebcdic' }
      len: { digits: number; encoding: 'ascii' | 'ebcdic' }
      /** Known tags; unknown tags are kept as text. */
      subfields?: Record<string, FieldSpec>
    }
  | {
      kind: 'bitmap'
      /** Bitmap size in bytes (Visa 62 and 126: 8; 63: 3). */
      bitmap: { bytes: number }
      subfields: Record<string, FieldSpec>
    }

/** One field (or subfield) definition. */
export interface FieldSpec {
  name?: string
  description?: string
  type: FieldType
  encoding: Encoding
  /** Fixed length, or the maximum when `prefix` or `rest` is set; in `unit`s. */
  length: number
  /** Absent: fixed length. */
  prefix?: PrefixSpec
  /** Positional subfields only: take whatever remains of the parent, up to `length`. */
  rest?: boolean
  /** What lengths count. Default: digits for BCD n/z/x+n, bytes for b, chars otherwise. */
  unit?: 'digits' | 'chars' | 'bytes'
  codepage?: Codepage
  bcd?: BcdSpec
  pad?: PadSpec
  /** Encoding of the sign of an `x+n` field whose digits are BCD. Default ascii. */
  signEncoding?: 'ascii' | 'ebcdic'
  /** How `describe` shows the value: pan = first 6 / last 4 at most, full = length only. */
  mask?: 'pan' | 'full' | 'none'
  tlv?: TlvSpec
  composite?: CompositeSpec
}

/** A dialect: MTI, bitmaps and fields. */
export interface SpecDocument {
  $schema?: string
  name: string
  description?: string
  /** Where the definitions come from, and what must be checked against the scheme's own spec. */
  provenance?: string
  codepage?: Codepage
  mti: { encoding: 'ascii' | 'ebcdic' | 'bcd'; allowed?: string[] }
  bitmap: { encoding: 'binary' | 'hex-ascii' | 'hex-ebcdic'; tertiary?: boolean }
  fields: Record<string, FieldSpec>
}
