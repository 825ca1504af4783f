/**
 * In-memory message representation.
 *
 * - numeric and text fields: `string`, exactly as on the wire (no trimming, no padding removed),
 * - binary fields (`b`): `Uint8Array` (decode returns Buffer views into the input frame),
 * - composite fields: a `Composite` object keyed by subfield number, tag or name.
 *
 * On encode a binary field also accepts an upper-case or lower-case hex string, so JSON
 * (where binary is hex) can be encoded directly.
 */
export type FieldValue = string | Uint8Array | Composite

/** Symbol under which a decoded tagged composite remembers the wire order of its tags. */
export const TAG_ORDER: unique symbol = Symbol('iso8583.tagOrder')

/**
 * A composite value. Keys are subfield numbers ("1", "2"), tags ("42") or leading subfield names
 * ("tcc"). `_rest` holds bytes the spec does not describe (kept so the field round-trips):
 * a Uint8Array for positional composites, `{ bits: "5,9", data: <bytes> }` for bitmap composites.
 */
export interface Composite {
  [key: string]: FieldValue
  [TAG_ORDER]?: readonly string[]
}

/** A whole message: MTI and fields keyed by field number ("2" … "192"). */
export interface Message {
  mti: string
  fields: Record<string, FieldValue>
}
