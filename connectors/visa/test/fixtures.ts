import type { VisaMessage } from '../src/message.js'

/** A Luhn-valid test PAN from a test BIN (not a real card). */
export const TEST_PAN = '4000001234567899'

/** An e-commerce 0100 with CVV2, as the connector sees it after decoding. */
export function ecommerce0100(overrides: Record<string, string | Buffer | undefined> = {}): VisaMessage {
  const fields: Record<string, string | Buffer> = {
    '2': TEST_PAN,
    '3': '000000',
    '4': '000000001250',
    '7': '1122024000',
    '11': '000123',
    '14': '2811',
    '18': '5411',
    '19': '276',
    '22': '0100',
    '25': '59',
    '32': '400050',
    '37': '632612000123',
    '41': 'TERM0001',
    '42': 'MERCHANT000001 ',
    '43': 'Example Grocery          Berlin       DE',
    '49': '978',
    '60.8': '05',
    '62.2': '381234567890123',
    '126.10': '11 123',
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete fields[k]
    else fields[k] = v
  }
  return { mti: '0100', fields }
}
