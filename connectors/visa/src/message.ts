/**
 * A Visa BASE I message in the connector's own terms: the MTI and field values by flat key ("2", "62.2",
 * "126.10", "60.8"). Text fields are strings; binary fields (52 PIN block, 55 chip data) are Buffers.
 * The wire codec (`wire-codec.ts`) converts this to and from bytes; the mapping code never sees bytes.
 */
export interface VisaMessage {
  mti: string
  fields: VisaFields
}

/** Field values by flat key. */
export type VisaFields = Record<string, string | Buffer>

/** A text field value, or undefined when absent (a binary value where text is expected counts as absent). */
export function text(fields: VisaFields, key: string): string | undefined {
  const v = fields[key]
  return typeof v === 'string' ? v : undefined
}

/** A binary field value, or undefined. */
export function bytes(fields: VisaFields, key: string): Buffer | undefined {
  const v = fields[key]
  return Buffer.isBuffer(v) ? v : undefined
}

/** Network management information codes (DE 70) handled by the connector (commonly cited Visa values). */
export const NETWORK_MANAGEMENT_CODES = {
  signOn: '071',
  signOff: '072',
  echo: '301',
} as const
