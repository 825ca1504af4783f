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

/**
 * A 0400 reversing `ecommerce0100()` (DE 90 = its MTI, STAN, DE 7 and zero-filled DE 32), sent a few
 * seconds later with its own STAN and DE 7.
 */
export function reversal0400(overrides: Record<string, string | Buffer | undefined> = {}, mti = '0400'): VisaMessage {
  const fields: Record<string, string | Buffer> = {
    '2': TEST_PAN,
    '3': '000000',
    '4': '000000001250',
    '7': '1122024010',
    '11': '000124',
    '14': '2811',
    '32': '400050',
    '37': '632612000124',
    '41': 'TERM0001',
    '42': 'MERCHANT000001 ',
    '49': '978',
    '62.2': '381234567890123',
    '90': `0100000123112202400000000400050${'0'.repeat(11)}`,
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete fields[k]
    else fields[k] = v
  }
  return { mti, fields }
}

/** A 0120 advice of a Visa STIP answer to `ecommerce0100()` (same DE 7, 11, 32), DE 39 = `de39`. */
export function stipAdvice0120(de39: string, overrides: Record<string, string | Buffer | undefined> = {}): VisaMessage {
  const base = ecommerce0100({ '39': de39, '63.4': '9020', ...overrides })
  return { mti: '0120', fields: base.fields }
}
